"""Session summaries: the JSON store's own grouping, and the cursor's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from raeburnmemory.core.errors import InvalidCursorError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.sessions import (
    SessionCursor,
    SessionPosition,
    decode_session_cursor,
    encode_session_cursor,
)
from raeburnmemory.core.testing.graph_sessions_contract import check_a_store_groups_sessions


def test_the_json_store_groups_from_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JsonStore.open(str(tmp_path / "graph.json"))
    try:
        check_a_store_groups_sessions(store, None, monkeypatch)
    finally:
        store.close()


def test_a_cursor_round_trips_and_is_bound_to_its_filters() -> None:
    query = ListQuery.build(agent_id="a1", since=10)
    state = SessionCursor(123_456, SessionPosition(99, "s/\u00e9\U0001f600"))
    cursor = encode_session_cursor(query, state)
    assert decode_session_cursor(cursor, query) == state
    with pytest.raises(InvalidCursorError, match="other filters"):
        decode_session_cursor(cursor, ListQuery.build(agent_id="a2", since=10))
    with pytest.raises(InvalidCursorError, match="altered"):
        decode_session_cursor(cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"), query)
