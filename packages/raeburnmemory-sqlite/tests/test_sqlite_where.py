"""Metadata filters translated to SQL select, on a real SQLite table, what matches() selects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from raeburnmemory.core.testing.data import interaction
from raeburnmemory.core.testing.examples import examples
from raeburnmemory.core.testing.where_strategies import (
    EXAMPLE_RECORDS,
    EXAMPLES,
    assert_selects_as_matches,
    cases,
)
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


def _fill(conn: Any, records: list[dict[str, Any]]) -> None:
    conn.execute("DELETE FROM interactions")
    rows = [to_row(seq, interaction(seq, metadata=meta)) for seq, meta in enumerate(records)]
    conn.executemany(
        "INSERT INTO interactions (seq, metadata) VALUES (?, ?)",
        [(row[0], row[10]) for row in rows],
    )


def _selected(conn: Any, where: Where) -> set[int]:
    text, values = where_sql(where, "interactions.metadata")
    found = conn.execute(f"SELECT seq FROM interactions WHERE {text}", values).fetchall()
    return {seq for (seq,) in found}


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_sql_selects_what_matches_selects(
    table: Any, case: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    records, wanted = case
    _fill(table, records)
    assert_selects_as_matches(lambda where: _selected(table, where), records, wanted)


@pytest.mark.parametrize(("mapping", "expected"), EXAMPLES)
def test_examples(table: Any, mapping: dict[str, Any], expected: set[int]) -> None:
    _fill(table, EXAMPLE_RECORDS)
    assert _selected(table, Where.parse(mapping)) == expected


def test_filter_text_never_reaches_the_sql() -> None:
    text, values = where_sql(Where.parse({"x') OR 1 --": "'; DROP TABLE interactions"}))
    assert "DROP" not in text
    assert "OR 1" not in text
    assert "x') OR 1 --" in values
