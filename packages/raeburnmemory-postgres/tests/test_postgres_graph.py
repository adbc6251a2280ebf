"""MemoryGraph on PostgreSQL: the shared contract, keyword and hybrid search, copying stores."""

from __future__ import annotations

from typing import Any

import pytest

from raeburnmemory.core.testing import MemoryGraphContract


class TestPostgresGraphContract(MemoryGraphContract):
    """Every MemoryGraph guarantee, with pgvector searching inside the database."""

    @pytest.fixture
    def graph_options(self, pg_graph_options: dict[str, Any]) -> dict[str, Any]:
        """The test's schema, searched by pgvector."""
        return pg_graph_options


class TestPostgresGraphInMemoryIndex(MemoryGraphContract):
    """The same with an in-memory index kept current through the store's change log."""

    @pytest.fixture
    def graph_options(self, pg_graph_options: dict[str, Any]) -> dict[str, Any]:
        """The test's schema, searched by a numpy index built from it."""
        return {**pg_graph_options, "vector_backend": "numpy"}
