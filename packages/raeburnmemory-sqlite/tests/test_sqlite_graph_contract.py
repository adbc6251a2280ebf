"""MemoryGraph meets its whole contract on the SQLite store with each vector mode."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.testing import MemoryGraphContract

MODES = ["numpy"]
if importlib.util.find_spec("faiss") is not None:
    MODES.append("faiss")
if importlib.util.find_spec("sqlite_vec") is not None:
    MODES.append("sqlite-vec")


class TestSQLiteGraph(MemoryGraphContract):
    @pytest.fixture(params=MODES)
    def graph_options(self, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
        return {
            "db_path": str(tmp_path / "memory" / "graph.db"),
            "storage_backend": "sqlite",
            "vector_backend": request.param,
        }
