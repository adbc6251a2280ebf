"""Every public module of raeburnmemory-postgres imports, and its ``__all__`` names exist."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "raeburnmemory.postgres",
    "raeburnmemory.postgres.store",
]


@pytest.mark.parametrize("name", MODULES)
def test_public_module_exports_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.{exported}"


def test_the_store_is_registered_under_its_name() -> None:
    from raeburnmemory.core.registry import load_storage_backend
    from raeburnmemory.postgres import PostgresStore

    assert load_storage_backend("postgres") is PostgresStore
    assert PostgresStore.native_vector_backends == ("pgvector",)
    assert PostgresStore.default_vector_backend == "pgvector"
    assert PostgresStore.supports_keyword_search
