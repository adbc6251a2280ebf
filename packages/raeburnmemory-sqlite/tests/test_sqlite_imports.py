"""Every public module of raeburnmemory-sqlite imports, and every name in its __all__ exists."""

from __future__ import annotations

import importlib

import pytest

from raeburnmemory.core.registry import load_storage_backend
from raeburnmemory.core.store import Store

MODULES = ["raeburnmemory.sqlite", "raeburnmemory.sqlite.store"]


@pytest.mark.parametrize("name", MODULES)
def test_public_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"


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
