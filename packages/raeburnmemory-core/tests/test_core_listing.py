"""Listing on its own: the default every store inherits, and cursors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from raeburnmemory.core.errors import ConfigurationError, InvalidCursorError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.listing import (
    ListQuery,
    Position,
    check_limit,
    check_order,
    decode_cursor,
    encode_cursor,
    micros,
)
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing.listing_contract import ListingContract
from raeburnmemory.core.testing.store_contract import StoreContract
from raeburnmemory.core.where import Where


class _StoreWithDefaults(JsonStore):
    """A JSON store that lists through the defaults of the Store base class, as a store that
    has no listing of its own does."""

    page = Store.page
    count_matching = Store.count_matching
    matching_ids = Store.matching_ids


class TestTheDefaultListing(ListingContract):
    opened = StoreContract.opened
    store = StoreContract.store

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., Store]:
        path = str(tmp_path / "graph.json")
        return lambda create=True: _StoreWithDefaults.open(path, create=create)

    def test_the_defaults_are_in_use(self, store: Store) -> None:
        assert type(store).page is Store.page
        assert type(store).count_matching is Store.count_matching


def test_a_cursor_round_trips_any_prompt_id() -> None:
    query = ListQuery(session_id="s", where=Where.parse({"user": "ana"}))
    for prompt_id in ("p1", "a/b c?d#é中😀", "\u2028", "x" * 300):
        position = Position(micros(datetime(9999, 12, 31, tzinfo=timezone.utc)), prompt_id)
        for descending in (False, True):
            cursor = encode_cursor(query, descending, position)
            assert cursor.isascii()
            assert decode_cursor(cursor, query, descending) == position


def test_every_altered_character_of_a_cursor_is_noticed() -> None:
    query = ListQuery()
    cursor = encode_cursor(query, False, Position(123, "p"))
    for at in range(len(cursor)):
        for replacement in "A_-9":
            changed = cursor[:at] + replacement + cursor[at + 1 :]
            if changed == cursor:
                continue
            with pytest.raises(InvalidCursorError):
                decode_cursor(changed, query, False)
    with pytest.raises(InvalidCursorError, match="other filters"):
        decode_cursor(cursor, ListQuery(agent_id="a"), False)
    for bad in (None, 3, "", "x" * 5000, "====", "%%%"):
        with pytest.raises(InvalidCursorError):
            decode_cursor(bad, query, False)


def test_limits_and_orders() -> None:
    assert check_limit(1) == 1
    assert check_limit(10_000) == 10_000
    for bad in (0, -1, 10_001, 2.0, "5", None, True):
        with pytest.raises(ConfigurationError, match="limit"):
            check_limit(bad)
    assert check_order("desc") is True
    assert check_order("asc") is False
    with pytest.raises(ConfigurationError, match="order"):
        check_order("ASC")


def test_an_empty_where_is_no_filter() -> None:
    assert ListQuery.build(where={}).is_empty
    assert not ListQuery.build(where={"a": 1}).is_empty
    assert ListQuery.build(since=0).since == datetime(1970, 1, 1, tzinfo=timezone.utc)
