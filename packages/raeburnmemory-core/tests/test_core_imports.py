"""Every public module of raeburnmemory-core imports, and every name in its __all__ exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from raeburnmemory.core.testing.imports import check_exports, loaded_by, modules_of

MODULES = ["raeburnmemory.memory_graph", *modules_of("raeburnmemory.core")]


def test_the_public_modules_are_found() -> None:
    for name in ("core.checks", "core.ids", "core.layout", "core.options", "core.where"):
        assert f"raeburnmemory.{name}" in MODULES
    assert not [name for name in MODULES if "._" in name]


@pytest.mark.parametrize("name", MODULES)
def test_public_names_exist(name: str) -> None:
    check_exports(name)


def test_the_namespace_has_no_init() -> None:
    import raeburnmemory

    assert getattr(raeburnmemory, "__file__", None) is None


def test_constructing_a_graph_imports_no_model_and_no_backend(tmp_path: Path) -> None:
    statement = (
        "from raeburnmemory.memory_graph import MemoryGraph\n"
        f"MemoryGraph(db_path={str(tmp_path / 'graph.json')!r})"
    )
    heavy = ("torch", "sentence_transformers", "qdrant_client", "psycopg", "fastapi")
    ours = ("raeburnmemory.sqlite", "raeburnmemory.postgres", "raeburnmemory.api")
    assert loaded_by(statement, (*heavy, *ours)) == []
