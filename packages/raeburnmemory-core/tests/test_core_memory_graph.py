"""MemoryGraph on the default JSON store passes the shared contract with every local index."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.testing import MemoryGraphContract

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
