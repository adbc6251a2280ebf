"""MemoryGraph on PostgreSQL: the shared contract, keyword and hybrid search, copying stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Link
from raeburnmemory.core.testing import MemoryGraphContract, interactions
from raeburnmemory.core.transfer import copy_store
from raeburnmemory.postgres import PostgresStore


class TestPostgresGraphContract(MemoryGraphContract):
    """Every MemoryGraph guarantee, with pgvector searching inside the database."""

    @pytest.fixture
    def graph_options(self, pg_graph_options: dict[str, Any]) -> dict[str, Any]:
        """The test's schema, searched by pgvector."""
        return pg_graph_options


class TestPostgresGraphInMemoryIndex(MemoryGraphContract):
    """The same with an in-memory index, kept current through the store's change log."""

    @pytest.fixture
    def graph_options(self, pg_graph_options: dict[str, Any]) -> dict[str, Any]:
        """The test's schema, searched by a numpy index built from it."""
        return {**pg_graph_options, "vector_backend": "numpy"}

    @pytest.mark.skip(reason="durability of the store: TestPostgresGraphContract runs it")
    def test_a_killed_writer_loses_no_acknowledged_write(self) -> None:
        """Not repeated: the vector backend plays no part in it."""

    @pytest.mark.skip(reason="writers in other processes: TestPostgresGraphContract runs it")
    def test_processes_writing_at_once_lose_nothing(self) -> None:
        """Not repeated: two graphs in one process follow each other's changes already."""


def test_keyword_and_hybrid_search_run_in_the_database(
    pg_graph_options: dict[str, Any],
) -> None:
    with MemoryGraph(embedding_model=None, **pg_graph_options) as graph:
        graph.batch_add(interactions(40, sessions=4))
        graph.add_interaction(
            {"id": "odd", "text": "Which cheese goes with quince paste?"},
            {"id": "r-odd", "text": "Manchego, traditionally."},
            {"id": "a"},
            "session-9",
        )
        hits = graph.search("manchego", 3, mode="keyword")
        assert [hit.id for hit in hits] == ["odd"]
        hits = graph.search("sourdough", 4, mode="keyword", session_id="session-1")
        assert len(hits) == 4
        assert all(hit.session_id == "session-1" and "sourdough" in hit.prompt_text for hit in hits)
        hybrid = graph.search("quince cheese pairing", 5, mode="hybrid")
        assert hybrid[0].id == "odd"
        assert len(hybrid) == 5


def test_a_memory_copies_from_json_to_postgres_and_back(
    tmp_path: Path, pg_dsn: str, pg_schema: str
) -> None:
    source_path = tmp_path / "source" / "graph.json"
    with MemoryGraph(source_path, embedding_model=None) as graph:
        graph.batch_add(interactions(30, sessions=3))
        graph.link_prompts("p1", "p2", "see_also")
        graph.delete_interaction("p7")
        before = graph.node_link_data()
    source = JsonStore.open(str(source_path), create=False)
    target = PostgresStore.open(None, options={"dsn": pg_dsn, "schema": pg_schema})
    back = JsonStore.open(str(tmp_path / "back" / "graph.json"))
    try:
        assert copy_store(source, target, batch_size=8) == 29
        assert copy_store(source, target) == 0  # again: everything is there already
        assert target.links() == [Link("p1", "p2", "see_also")]
        assert copy_store(target, back, batch_size=7) == 29
        assert list(back.iter_interactions()) == list(source.iter_interactions())
        original, returned = source.load_vectors(), back.load_vectors()
        assert returned.ids == original.ids
        assert (returned.vectors == original.vectors).all()
    finally:
        for store in (source, target, back):
            store.close()
    options = {"storage_backend": "postgres", "dsn": pg_dsn, "schema": pg_schema}
    with MemoryGraph(embedding_model=None, **options) as graph:
        data = graph.node_link_data()
        assert data["nodes"] == before["nodes"]
        assert data["edges"] == before["edges"]
        assert graph.get_similar_prompts(interactions(5)[4].prompt_text, 1) == ["p4"]
