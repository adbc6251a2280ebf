"""MemoryGraph on the default JSON store passes the shared contract with every local index."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.testing import MemoryGraphContract
from raeburnmemory.memory_graph import MemoryGraph

BACKENDS = ["numpy"]
if importlib.util.find_spec("faiss") is not None:
    BACKENDS += ["faiss", "faiss-hnsw"]


class TestJsonStoreGraph(MemoryGraphContract):
    @pytest.fixture(params=BACKENDS)
    def graph_options(self, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
        options: dict[str, Any] = {"db_path": str(tmp_path / "memory" / "graph.json")}
        if request.param == "faiss-hnsw":
            options.update(vector_backend="faiss", index="hnsw")
        else:
            options["vector_backend"] = request.param
        return options


def test_search_nowait_answers_only_when_nothing_must_be_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    with (
        MemoryGraph(path, embedding_model=None) as memory,
        MemoryGraph(path, embedding_model=None) as other,
    ):
        memory.add_interaction(
            {"id": "p1", "text": "bake bread"}, {"id": "r1", "text": "ok"}, {"id": "a"}, "s"
        )
        assert memory.search_nowait("bake bread", 1) is not None  # index built by the write
        assert [hit.id for hit in memory.search_nowait("bake bread", 1) or []] == ["p1"]
        assert memory.search_nowait("bake bread", 1, mode="keyword") is None
        other.add_interaction(
            {"id": "p2", "text": "tune a database"}, {"id": "r2", "text": "ok"}, {"id": "a"}, "s"
        )
        assert memory.search_nowait("tune a database", 1) is None  # p2 is still to be read
        assert [hit.id for hit in memory.search("tune a database", 1)] == ["p2"]
        assert [hit.id for hit in memory.search_nowait("tune a database", 1) or []] == ["p2"]
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with memory._lock:
                held.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(5)
        assert memory.search_nowait("bake bread", 1) is None  # another thread uses the graph
        release.set()
        holder.join()
    assert memory.search_nowait("bake bread", 1) is None  # closed: search() says why
