"""Every public module of raeburnmemory-postgres imports, and its ``__all__`` names exist."""

from __future__ import annotations

from raeburnmemory.core.testing.imports import exports_test

test_public_module_exports_exist = exports_test("raeburnmemory.postgres")


def test_the_store_is_registered_under_its_name() -> None:
    from raeburnmemory.core.registry import load_storage_backend
    from raeburnmemory.postgres import PostgresStore

    assert load_storage_backend("postgres") is PostgresStore
    assert PostgresStore.native_vector_backends == ("pgvector",)
    assert PostgresStore.default_vector_backend == "pgvector"
    assert PostgresStore.supports_keyword_search
