"""LangChain's own standard tests of vector stores, unchanged, on the JSON and SQLite stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from raeburnmemory.langchain import RaeburnMemoryVectorStore

# The suites' coroutine tests run on pytest-asyncio's loop; the mark reaches their plain tests too.
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.filterwarnings(
        "ignore:The test <Function .* is marked with '@pytest.mark.asyncio'"
    ),
]


class TestJsonStore(VectorStoreIntegrationTests):
    """Every standard test, sync and async, on a fresh JSON store."""

    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> Iterator[VectorStore]:
        with RaeburnMemoryVectorStore.open(self.get_embeddings(), tmp_path / "docs.json") as store:
            yield store


class TestSqliteStore(VectorStoreIntegrationTests):
    """Every standard test, sync and async, on a fresh SQLite store."""

    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> Iterator[VectorStore]:
        with RaeburnMemoryVectorStore.open(
            self.get_embeddings(), tmp_path / "docs.db", storage_backend="sqlite"
        ) as store:
            yield store
