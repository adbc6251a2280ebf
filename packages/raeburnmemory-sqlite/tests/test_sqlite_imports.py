"""Every public module of raeburnmemory-sqlite imports, and every name in its __all__ exists."""

from __future__ import annotations

from raeburnmemory.core.registry import load_storage_backend
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing.imports import exports_test

test_public_names_exist = exports_test("raeburnmemory.sqlite")


def test_the_entry_point_gives_the_store() -> None:
    from raeburnmemory.sqlite import SQLiteStore

    cls = load_storage_backend("sqlite")
    assert cls is SQLiteStore
    assert issubclass(cls, Store)
    assert cls.name == "sqlite"
    assert cls.native_vector_backends == ("sqlite-vec",)
    assert cls.default_vector_backend is None
    assert cls.supports_keyword_search
    assert cls.option_names == {"busy_timeout", "fsync"}
