"""The shared contracts of vector indexes and MemoryGraph on Qdrant: local mode, and a server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing import MemoryGraphContract, VectorIndexContract, interaction
from raeburnmemory.core.testing.graph_contract import _spawn
from raeburnmemory.core.testing.graph_listing_contract import write_in_this_process
from raeburnmemory.qdrant import QdrantVectors


class TestQdrantVectorIndex(VectorIndexContract):
    @pytest.fixture
    def index_factory(
        self, open_store: Callable[..., Store], target: dict[str, Any]
    ) -> Iterator[Callable[[int], QdrantVectors]]:
        made: list[QdrantVectors] = []

        def make(dim: int) -> QdrantVectors:
            index = QdrantVectors.create(dim=dim, store=open_store(), options=target)
            made.append(index)
            return index

        yield make
        for index in made:
            index.close()


class TestQdrantMemoryGraph(MemoryGraphContract):
    @pytest.fixture
    def graph_options(self, tmp_path: Path, target: dict[str, Any]) -> dict[str, Any]:
        return {"db_path": str(tmp_path / "graph.json"), "vector_backend": "qdrant", **target}

    def test_a_cursor_survives_another_process_writing(
        self, graph: MemoryGraph, options: dict[str, Any]
    ) -> None:
        if "qdrant_url" in options:  # a server serves every process
            super().test_a_cursor_survives_another_process_writing(graph, options)
            return
        # Local mode: one process per folder; another MemoryGraph of this process writes.
        self.check_a_cursor_survives_other_writers(graph, options, write_in_this_process)

    def test_processes_writing_at_once_lose_nothing(self, options: dict[str, Any]) -> None:
        if "qdrant_url" in options:  # a server serves every process
            super().test_processes_writing_at_once_lose_nothing(options)
            return
        # Local mode: one process per folder. Another one is refused at once and told why.
        with MemoryGraph(**options) as graph:
            graph.add_interaction(
                {"id": "p1", "text": "first"}, {"id": "r1", "text": "ok"}, {"id": "a"}, "s"
            )
            writer = _spawn(options, "w-", 5)
            _out, err = writer.communicate(timeout=60)
            assert writer.returncode != 0
            assert "StoreLockedError" in err
            assert "run a Qdrant server" in err
            assert "qdrant_url" in err
            assert graph.get_similar_prompts(interaction(1).prompt_text, 5) == ["p1"]
