"""The SQLite store groups the session overview in SQL, in the order Python compares ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from raeburnmemory.core.testing.graph_sessions_contract import check_a_store_groups_sessions
from raeburnmemory.sqlite import SQLiteStore


def test_summaries_are_grouped_in_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SQLiteStore.open(str(tmp_path / "graph.sqlite3"))
    try:
        check_a_store_groups_sessions(store, None, monkeypatch)
    finally:
        store.close()
