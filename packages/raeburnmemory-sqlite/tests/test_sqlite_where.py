"""Metadata filters translated to SQL select, on a real SQLite table, what matches() selects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from raeburnmemory.core.testing.data import interaction
from raeburnmemory.core.testing.where_contract import SelectIn, WhereTranslationContract
from raeburnmemory.core.where import Where
from raeburnmemory.sqlite._driver import driver
from raeburnmemory.sqlite._rows import to_row
from raeburnmemory.sqlite._where import register, where_sql

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    """An in-memory table with the store's ``metadata TEXT`` column, on the store's driver."""
    conn = driver().module.connect(":memory:", isolation_level=None)
    register(conn)
    conn.execute("CREATE TABLE interactions (seq INTEGER PRIMARY KEY, metadata TEXT NOT NULL)")
    yield conn
    conn.close()


class TestSQLiteWhere(WhereTranslationContract):
    @pytest.fixture
    def select_in(self, table: Any) -> SelectIn:
        """The records as rows of the table (their metadata as the store writes it), selected
        with the SQL of a filter."""

        def fill(records: list[dict[str, Any]]) -> Callable[[Where], set[int]]:
            table.execute("DELETE FROM interactions")
            rows = [to_row(n, interaction(n, metadata=meta)) for n, meta in enumerate(records)]
            table.executemany(
                "INSERT INTO interactions (seq, metadata) VALUES (?, ?)",
                [(row[0], row[10]) for row in rows],
            )
            return lambda where: _selected(table, where)

        return fill


def _selected(conn: Any, where: Where) -> set[int]:
    text, values = where_sql(where, "interactions.metadata")
    found = conn.execute(f"SELECT seq FROM interactions WHERE {text}", values).fetchall()
    return {seq for (seq,) in found}


def test_filter_text_never_reaches_the_sql() -> None:
    text, values = where_sql(Where.parse({"x') OR 1 --": "'; DROP TABLE interactions"}))
    assert "DROP" not in text
    assert "OR 1" not in text
    assert "x') OR 1 --" in values
