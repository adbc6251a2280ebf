"""Metadata filters translated to SQL select, on a real PostgreSQL table with the store's ``json``
column (read as ``jsonb``), what matches() selects; and the GIN index serves equality."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from raeburnmemory.core.testing.where_contract import SelectIn, WhereTranslationContract
from raeburnmemory.core.where import Where
from raeburnmemory.postgres._where import METADATA_FUNCTION, METADATA_INDEX, where_sql

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def conn(pg_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose search path is a fresh schema holding ``interactions (seq, metadata
    json)``, the store's column type, with the metadata function and index; the schema is
    dropped after."""
    schema = f"w_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        connection.execute(
            "CREATE TABLE interactions (seq bigint PRIMARY KEY, metadata json NOT NULL)"
        )
        connection.execute(METADATA_FUNCTION)
        connection.execute(METADATA_INDEX)
        yield connection
        connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _fill(conn: psycopg.Connection[Any], records: list[dict[str, Any]]) -> None:
    conn.execute("TRUNCATE interactions")
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO interactions (seq, metadata) VALUES (%s, %s::json)",
            [(seq, json.dumps(meta, ensure_ascii=False)) for seq, meta in enumerate(records)],
        )


def _selected(conn: psycopg.Connection[Any], where: Where) -> set[int]:
    condition, params = where_sql(where)
    query = sql.SQL("SELECT seq FROM interactions WHERE {}").format(condition)
    return {seq for (seq,) in conn.execute(query, params).fetchall()}


class TestPostgresWhere(WhereTranslationContract):
    random_cases = 200

    @pytest.fixture
    def select_in(self, conn: psycopg.Connection[Any]) -> SelectIn:
        """The records as rows of the table, selected with the SQL of a filter."""

        def fill(records: list[dict[str, Any]]) -> Callable[[Where], set[int]]:
            _fill(conn, records)
            return lambda where: _selected(conn, where)

        return fill


@pytest.mark.parametrize(
    "mapping", [{"user": "ana"}, {"user": {"$in": ["ana", "bob"]}}, {"flag": True}, {"n": 3}]
)
def test_the_index_serves_equality(conn: psycopg.Connection[Any], mapping: dict[str, Any]) -> None:
    _fill(conn, [{"user": f"u{i}", "n": i, "flag": i % 2 == 0} for i in range(2000)])
    conn.execute("ANALYZE interactions")
    condition, params = where_sql(Where.parse(mapping))
    query = sql.SQL("EXPLAIN SELECT seq FROM interactions WHERE {}").format(condition)
    conn.execute("SET enable_seqscan = off")  # can the index answer it (not: is it cheaper)
    try:
        plan = "\n".join(row for (row,) in conn.execute(query, params).fetchall())
    finally:
        conn.execute("RESET enable_seqscan")
    assert "Bitmap Index Scan on interactions_metadata" in plan, plan


def test_filter_text_never_reaches_the_sql(conn: psycopg.Connection[Any]) -> None:
    condition, params = where_sql(Where.parse({"x') OR TRUE --": {"$gt": 1}}))
    text = condition.as_string(conn)
    assert "OR TRUE" not in text
    assert "x') OR TRUE --" in params.values()
