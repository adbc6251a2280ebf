"""The JSON store passes the store contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing.store_contract import StoreContract


class TestJsonStoreContract(StoreContract):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., Store]:
        path = tmp_path / "mem" / "graph.json"
        return lambda create=True: JsonStore.open(str(path), create=create)


class TestJsonStoreContractFsync(StoreContract):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., Store]:
        path = tmp_path / "graph.json"
        options = {"fsync": True, "lock_timeout": 5}
        return lambda create=True: JsonStore.open(str(path), create=create, options=options)
