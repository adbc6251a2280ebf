"""Every public module of raeburnmemory-qdrant imports, and every name in its __all__ exists."""

from __future__ import annotations

import importlib

import pytest

from raeburnmemory.core.registry import load_vector_backend

MODULES = ["raeburnmemory.qdrant", "raeburnmemory.qdrant.index", "raeburnmemory.qdrant.settings"]


@pytest.mark.parametrize("name", MODULES)
def test_public_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"


def test_the_entry_point_names_the_backend() -> None:
    from raeburnmemory.qdrant import QdrantVectors

    backend = load_vector_backend("qdrant")
    assert backend is QdrantVectors
    assert backend.name == "qdrant"
    assert backend.persistent is True
    assert backend.option_names == {"qdrant_url", "qdrant_api_key", "collection"}
