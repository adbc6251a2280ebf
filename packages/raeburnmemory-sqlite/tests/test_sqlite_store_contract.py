"""The shared store contract, run against SQLite databases (each vector mode of the store)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from raeburnmemory.core.store import Store
from raeburnmemory.core.testing import StoreContract
from raeburnmemory.sqlite import SQLiteStore

MODES: list[str | None] = [None]
if importlib.util.find_spec("sqlite_vec") is not None:
    MODES.append("sqlite-vec")


class TestSQLiteStoreContract(StoreContract):
    @pytest.fixture(params=MODES, ids=lambda mode: mode or "plain")
    def store_factory(self, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Store]:
        path = str(tmp_path / "memory" / "graph.db")

        def factory(create: bool = True) -> Store:
            return SQLiteStore.open(path, create=create, vector_backend=request.param)

        return factory
