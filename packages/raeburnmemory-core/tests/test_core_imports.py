"""Every public module of raeburnmemory-core imports, and every name in its __all__ exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest


def _public_modules() -> list[str]:
    """Every module of raeburnmemory.core whose dotted name has no part starting with ``_``."""
    core = importlib.import_module("raeburnmemory.core")
    found = [
        info.name
        for info in pkgutil.walk_packages(core.__path__, "raeburnmemory.core.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]
    return ["raeburnmemory.memory_graph", "raeburnmemory.core", *sorted(found)]


MODULES = _public_modules()


def test_the_public_modules_are_found() -> None:
    for name in ("core.checks", "core.ids", "core.layout", "core.options", "core.where"):
        assert f"raeburnmemory.{name}" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_public_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"


def test_the_namespace_has_no_init() -> None:
    import raeburnmemory

    assert getattr(raeburnmemory, "__file__", None) is None


def test_constructing_a_graph_imports_no_model_and_no_backend(tmp_path: object) -> None:
    import subprocess
    import sys

    code = f"""
import sys
from raeburnmemory.memory_graph import MemoryGraph
graph = MemoryGraph(db_path={str(tmp_path)!r} + "/graph.json")
heavy = ("torch", "sentence_transformers", "qdrant_client", "psycopg", "fastapi")
ours = ("raeburnmemory.sqlite", "raeburnmemory.postgres", "raeburnmemory.api")
print([m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(ours)])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
