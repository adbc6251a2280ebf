"""Fixtures shared by the SQLite store's tests: stores on real database files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing.store_contract import closing_all
from raeburnmemory.sqlite import SQLiteStore

DIM = 32
ENCODER = EncoderInfo("test-encoder", DIM)

StoreFactory = Callable[..., SQLiteStore]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database lives (not created yet)."""
    return tmp_path / "memory" / "graph.db"


@pytest.fixture
def open_store(db_path: Path) -> Iterator[StoreFactory]:
    """Opens the test's database (as often as asked); every store is closed afterwards."""

    def factory(create: bool = True, **kwargs: Any) -> SQLiteStore:
        return SQLiteStore.open(str(db_path), create=create, **kwargs)

    with closing_all(factory) as opening:
        yield opening


@pytest.fixture
def store(open_store: StoreFactory) -> SQLiteStore:
    """An empty store with the test encoder recorded."""
    opened = open_store()
    opened.set_encoder_info(ENCODER)
    return opened
