"""Every module of raeburnmemory-cli imports, and every name in its __all__ exists."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "raeburnmemory.cli",
    "raeburnmemory.cli.__main__",
    "raeburnmemory.cli._app",
    "raeburnmemory.cli._demo",
    "raeburnmemory.cli._export",
    "raeburnmemory.cli._graphml",
    "raeburnmemory.cli._import",
    "raeburnmemory.cli._jsonl",
    "raeburnmemory.cli._maintenance",
    "raeburnmemory.cli._mcp",
    "raeburnmemory.cli._output",
    "raeburnmemory.cli._records",
    "raeburnmemory.cli._search",
    "raeburnmemory.cli._serve",
    "raeburnmemory.cli._settings",
    "raeburnmemory.cli._versions",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_exports_what_it_lists(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in getattr(module, "__all__", []):
        assert getattr(module, public) is not None, f"{name}.{public}"


def test_the_public_surface_is_the_app_and_main() -> None:
    import typer

    import raeburnmemory.cli as cli

    assert sorted(cli.__all__) == ["app", "main"]
    assert isinstance(cli.app, typer.Typer)
    assert callable(cli.main)


def test_the_console_script_points_at_main() -> None:
    from importlib.metadata import entry_points

    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "raeburnmemory"]
    assert script.value == "raeburnmemory.cli:main"
    assert script.load() is importlib.import_module("raeburnmemory.cli").main


def test_importing_the_cli_loads_no_store_model_or_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys, raeburnmemory.cli\n"
        "heavy = ('torch', 'sentence_transformers', 'uvicorn', 'fastapi', 'faiss', 'psycopg')\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith(('raeburnmemory.sqlite', 'raeburnmemory.api'))])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
