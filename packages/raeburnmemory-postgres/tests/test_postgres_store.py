"""PostgresStore against the shared store contract, and what is particular to PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql

from raeburnmemory.core import json_text
from raeburnmemory.core.errors import EmbeddingMismatchError, InvalidInteractionError
from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.model import EncoderInfo, SearchFilter
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing import StoreContract, interaction, interactions, unit_vectors
from raeburnmemory.core.where import Where
from raeburnmemory.postgres import PostgresStore, _search

DIM = 32  # the dimension of the ``store`` fixture's encoder (conftest.py)
ENCODER = EncoderInfo("test-encoder", DIM)
StoreFactory = Callable[..., PostgresStore]


class TestPostgresStoreContract(StoreContract):
    """The contract every store meets, on a fresh schema of the test server."""

    @pytest.fixture
    def store_factory(self, pg_dsn: str, pg_schema: str) -> Callable[..., Store]:
        """Opens the test's schema."""

        def factory(create: bool = True) -> Store:
            options = {"dsn": pg_dsn, "schema": pg_schema}
            return PostgresStore.open(None, create=create, options=options)

        return factory


def _exact(
    vectors: np.ndarray[Any, Any], query: np.ndarray[Any, Any], rows: list[int], k: int
) -> list[int]:
    scores = vectors[rows] @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [rows[i] for i in order]


def _counts(pg_dsn: str, schema: str) -> tuple[int, int]:
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            f'SELECT (SELECT count(*) FROM "{schema}".vectors), '
            f'(SELECT count(*) FROM "{schema}".pending_vectors)'
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_selective_filter_still_returns_k_hits(store: PostgresStore) -> None:
    # 1,500 prompts over 300 sessions: a session holds 5, far fewer than HNSW's candidate list
    count = 1500
    items = interactions(count, sessions=300, agents=7)
    vectors = unit_vectors(count, DIM, seed=4)
    store.add(items, vectors)
    store.compact()  # all in the HNSW index
    query = unit_vectors(1, DIM, seed=99)
    for session in ("session-7", "session-299"):
        rows = [i for i, item in enumerate(items) if item.session_id == session]
        hits = store.vector_search(query, 4, SearchFilter(session_id=session))
        assert [int(pid[1:]) for pid, _ in hits] == _exact(vectors, query[0], rows, 4)
    rows = [i for i, item in enumerate(items) if item.agent_id == "agent-3"]
    hits = store.vector_search(query, 10, SearchFilter(agent_id="agent-3"))
    assert len(hits) == 10
    assert {item.agent_id for item in store.get_many([pid for pid, _ in hits])} == {"agent-3"}
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    rows = [i for i, item in enumerate(items) if item.session_id == "session-5"]
    hits = store.vector_search(query, 50, SearchFilter(session_id="session-5"))
    assert len(hits) == len(rows) == 5  # fewer than k exist: all of them


def test_unindexed_vectors_are_searched_until_the_index_has_them(
    store: PostgresStore, pg_dsn: str
) -> None:
    count = 256
    vectors = unit_vectors(count, DIM, seed=5)
    store._indexer.stop()  # keep them waiting, to see both halves of a search
    assert store.add(interactions(count), vectors) == [f"p{i}" for i in range(count)]
    assert _counts(pg_dsn, store.schema) == (0, count)
    query = vectors[17:18]
    assert store.vector_search(query, 3, SearchFilter())[0][0] == "p17"
    assert store.vector_search(query, 3, SearchFilter(session_id="session-2"))[0][0] != "p17"
    store.compact()
    assert _counts(pg_dsn, store.schema) == (count, 0)
    assert store.vector_search(query, 1, SearchFilter())[0][0] == "p17"
    np.testing.assert_allclose(store.load_vectors().vectors, vectors, rtol=1e-6)


def test_the_background_indexer_moves_bulk_writes_into_the_index(
    open_store: StoreFactory, pg_dsn: str
) -> None:
    store = open_store()
    store.set_encoder_info(ENCODER)
    bulk = 1200  # a large backlog: rebuilt in one pass once writing pauses
    store.add(interactions(bulk), unit_vectors(bulk, DIM))
    store._indexer.wait()
    assert _counts(pg_dsn, store.schema) == (bulk, 0)
    store.add(interactions(50, start=bulk), unit_vectors(50, DIM))  # small: moved row by row
    store._indexer.wait()
    assert _counts(pg_dsn, store.schema) == (bulk + 50, 0)
    store._indexer.stop()
    store.add(interactions(50, start=2000), unit_vectors(50, DIM))
    assert _counts(pg_dsn, store.schema) == (bulk + 50, 50)
    other = open_store()  # opening with vectors pending starts an indexer too
    other._indexer.wait()
    assert _counts(pg_dsn, store.schema) == (bulk + 100, 0)
    assert store.vector_search(unit_vectors(bulk, DIM)[7:8], 1, SearchFilter())[0][0] == "p7"


def test_keyword_search_ranks_and_filters_in_sql(store: PostgresStore) -> None:
    store.add(interactions(40, sessions=4), None)
    hits = store.keyword_search("sourdough bread", 5, SearchFilter())
    assert len(hits) == 5
    assert all("sourdough" in (store.get(pid) or interaction(0)).prompt_text for pid, _ in hits)
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
    only = store.keyword_search("sourdough", 10, SearchFilter(session_id="session-1"))
    assert only
    assert {store.get(pid).session_id for pid, _ in only} == {"session-1"}
    for text in ('"unclosed', "-", "a OR", "()", "\x00", "the", "", "'; DROP TABLE x; --"):
        assert isinstance(store.keyword_search(text, 3, SearchFilter()), list)
    assert store.keyword_search('"step by step" -hiking', 50, SearchFilter())
    assert not any(
        "hiking" in (store.get(pid) or interaction(0)).prompt_text
        for pid, _ in store.keyword_search('"step by step" -hiking', 50, SearchFilter())
    )


def test_a_new_dimension_rebuilds_the_vector_tables(store: PostgresStore) -> None:
    store.add(interactions(3), unit_vectors(3, DIM))
    with pytest.raises(EmbeddingMismatchError, match="test-encoder"):
        store.set_encoder_info(EncoderInfo("other", 8))
    store.delete(["p0", "p1", "p2"])
    store.set_encoder_info(EncoderInfo("other", 8))  # no vectors left: allowed
    assert store.add(interactions(2), unit_vectors(2, 8)) == ["p0", "p1"]
    assert store.load_vectors().vectors.shape == (2, 8)


def test_text_postgres_cannot_hold_is_refused_clearly(store: PostgresStore) -> None:
    with pytest.raises(InvalidInteractionError, match="NUL"):
        store.add([interaction(0, prompt_text="nul \x00 inside")], unit_vectors(1, DIM))
    with pytest.raises(InvalidInteractionError, match="metadata"):
        store.add([interaction(1, metadata={"x": float("nan")})], unit_vectors(1, DIM))
    odd = interaction(2, metadata={"text": "\u0000 and ☃", "big": 2**70, "z": 1, "a": [1.5]})
    store.add([odd], None)
    assert store.get("p2") == odd
    assert list((store.get("p2") or odd).metadata) == ["text", "big", "z", "a"]
    # jsonb cannot hold the escape \u0000: metadata filters pass over such a record, unharmed
    assert store.matching_ids(ListQuery(where=Where.parse({"z": 1}))) == []
    assert store.count_matching(ListQuery(where=Where.parse({"z": {"$ne": 2}}))) == 0


def test_the_change_log_is_pruned_without_losing_a_reader(
    open_store: StoreFactory, pg_dsn: str
) -> None:
    writer, reader = open_store(), open_store()
    writer.set_encoder_info(ENCODER)
    reader.load_vectors()
    writer.add(interactions(2), unit_vectors(2, DIM))
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"UPDATE \"{writer.schema}\".changes SET at = now() - interval '2 days'")
    writer.compact()
    assert reader.refresh().reset  # its next changes were pruned: it must reload
    reader.load_vectors()
    writer.add(interactions(1, start=5), unit_vectors(1, DIM))
    changes = reader.refresh()
    assert not changes.reset
    assert changes.added.ids == ["p5"]


def test_hnsw_iterative_scans_fill_k_under_a_selective_filter(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 600
    items = interactions(count, sessions=120, agents=7)
    vectors = unit_vectors(count, DIM, seed=6)
    store.add(items, vectors)
    store.compact()

    def no_exact(*args: Any) -> Any:
        raise AssertionError("the HNSW scan gave fewer than k rows")

    monkeypatch.setattr(_search, "_exact", no_exact)
    query = unit_vectors(1, DIM, seed=7)
    only = SearchFilter(session_id="session-3")
    rows = [i for i, item in enumerate(items) if item.session_id == "session-3"]
    with store._connection() as conn, conn.transaction():
        assert conn.execute("SHOW hnsw.iterative_scan").fetchone() == ("relaxed_order",)
        conn.execute("SET LOCAL enable_seqscan = off")  # the planner would scan 600 rows itself
        conn.execute("SET LOCAL hnsw.ef_search = 5")  # 5 candidates, 1 in 120 passes the filter
        plan = conn.execute(
            "EXPLAIN SELECT prompt_id FROM vectors WHERE session_id = 'session-3' "
            "ORDER BY embedding <=> %s LIMIT 5",
            (query[0],),
        ).fetchall()
        assert "vectors_hnsw" in " ".join(row[0] for row in plan)
        hits = _search.vector_search(conn, query, 5, only)
        assert {int(pid[1:]) for pid, _ in hits} == set(_exact(vectors, query[0], rows, 5))
        conn.execute("SET LOCAL hnsw.iterative_scan = off")
        with pytest.raises(AssertionError, match="fewer than k"):
            _search.vector_search(conn, query, 5, only)


def test_a_record_nested_past_the_recursion_limit_still_reads(
    store: PostgresStore, open_store: StoreFactory, pg_dsn: str, pg_schema: str
) -> None:
    """Such a record can only come from before the limits: it is written into the table here."""
    store.add(interactions(2), unit_vectors(2, DIM))
    depth = 3 * sys.getrecursionlimit()
    deep = '{"in": ' * depth + "1" + "}" * depth
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("UPDATE {}.interactions SET metadata = %s::json WHERE prompt_id = 'p1'").format(
                sql.Identifier(pg_schema)
            ),
            (deep,),
        )
    again = open_store(create=False)
    got = again.get("p1")
    assert got is not None
    assert json_text.dumps(got.metadata) == deep
    assert [item.prompt_id for item in again.session(got.session_id)] == ["p1"]
    assert again.get("p0") == interaction(0)


def test_the_change_log_keeps_its_stored_codes(
    store: PostgresStore, pg_dsn: str, pg_schema: str
) -> None:
    store.add(interactions(2), unit_vectors(2, DIM))
    store.delete(["p0"])
    store.replace_vectors([(["p1"], unit_vectors(1, 8))], EncoderInfo("other", 8))
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            sql.SQL("SELECT op, prompt_ids FROM {}.changes ORDER BY seq").format(
                sql.Identifier(pg_schema)
            )
        ).fetchall()
    assert rows == [("a", ["p0", "p1"]), ("d", ["p0"]), ("r", [])]
