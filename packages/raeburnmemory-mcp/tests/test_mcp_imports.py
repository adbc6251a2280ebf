"""Every module of raeburnmemory-mcp imports and exports what it lists; importing opens nothing."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from raeburnmemory.core.testing.imports import check_exports, loaded_by, modules_of


@pytest.mark.parametrize("name", modules_of("raeburnmemory.mcp", private=True))
def test_module_imports_and_exports_what_it_lists(name: str) -> None:
    check_exports(name)


def test_the_console_script_points_at_main() -> None:
    scripts = entry_points(group="console_scripts")
    (script,) = [ep for ep in scripts if ep.name == "raeburnmemory-mcp"]
    assert script.value == "raeburnmemory.mcp:main"
    assert script.load() is importlib.import_module("raeburnmemory.mcp").main


def test_importing_the_package_opens_no_store_and_loads_no_model(tmp_path: Path) -> None:
    heavy = ("torch", "sentence_transformers", "faiss", "psycopg", "qdrant_client")
    env = {"RAEBURN_DB_PATH": str(tmp_path / "store" / "graph.json")}
    assert loaded_by("import raeburnmemory.mcp", heavy, env=env) == []
    assert not (tmp_path / "store").exists()
