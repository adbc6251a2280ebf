"""Every public module of raeburnmemory-qdrant imports, and every name in its __all__ exists."""

from __future__ import annotations

import pytest

from raeburnmemory.core.registry import load_vector_backend
from raeburnmemory.core.testing.imports import check_exports, modules_of


@pytest.mark.parametrize("name", modules_of("raeburnmemory.qdrant"))
def test_public_names_exist(name: str) -> None:
    check_exports(name)


def test_the_entry_point_names_the_backend() -> None:
    from raeburnmemory.qdrant import QdrantVectors

    backend = load_vector_backend("qdrant")
    assert backend is QdrantVectors
    assert backend.name == "qdrant"
    assert backend.persistent is True
    assert backend.option_names == {"qdrant_url", "qdrant_api_key", "collection"}
