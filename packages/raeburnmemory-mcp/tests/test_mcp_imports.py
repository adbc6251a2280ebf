"""Every module of raeburnmemory-mcp imports and exports what it lists; importing opens nothing."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

MODULES = [
    "raeburnmemory.mcp",
    "raeburnmemory.mcp._ids",
    "raeburnmemory.mcp.command",
    "raeburnmemory.mcp.descriptions",
    "raeburnmemory.mcp.models",
    "raeburnmemory.mcp.server",
    "raeburnmemory.mcp.settings",
    "raeburnmemory.mcp.tools",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_exports_what_it_lists(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"


def test_the_console_script_points_at_main() -> None:
    scripts = entry_points(group="console_scripts")
    (script,) = [ep for ep in scripts if ep.name == "raeburnmemory-mcp"]
    assert script.value == "raeburnmemory.mcp:main"
    assert script.load() is importlib.import_module("raeburnmemory.mcp").main


def test_importing_the_package_opens_no_store_and_loads_no_model(tmp_path: Path) -> None:
    code = (
        "import sys, raeburnmemory.mcp\n"
        "heavy = ('torch', 'sentence_transformers', 'faiss', 'psycopg', 'qdrant_client')\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy])\n"
    )
    env = {**os.environ, "RAEBURN_DB_PATH": str(tmp_path / "store" / "graph.json")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "[]"
    assert not (tmp_path / "store").exists()
