"""The LangGraph store conformance suite: LangGraph's InMemoryStore (the reference) and
RaeburnMemoryStore on the JSON and SQLite stores pass the same tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph.store.base import BaseStore

from raeburnmemory.langchain import EmbeddingsEncoder, RaeburnMemoryStore
from raeburnmemory.langchain.testing import BaseStoreConformanceTests, reference_store
from raeburnmemory.memory_graph import MemoryGraph


class TestInMemoryStore(BaseStoreConformanceTests):
    """The reference: LangGraph's own store."""

    @pytest.fixture
    def store(self) -> BaseStore:
        return reference_store(self.get_embeddings())


class TestJsonStore(BaseStoreConformanceTests):
    """RaeburnMemoryStore over a JSON store."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[BaseStore]:
        encoder = EmbeddingsEncoder(self.get_embeddings())
        with MemoryGraph(tmp_path / "store.json", embedding_model=encoder) as memory:
            yield RaeburnMemoryStore(memory, fields=["text"])


class TestSqliteStore(BaseStoreConformanceTests):
    """RaeburnMemoryStore over a SQLite store."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[BaseStore]:
        encoder = EmbeddingsEncoder(self.get_embeddings())
        path = tmp_path / "store.db"
        with MemoryGraph(path, embedding_model=encoder, storage_backend="sqlite") as memory:
            yield RaeburnMemoryStore(memory, fields=["text"])
