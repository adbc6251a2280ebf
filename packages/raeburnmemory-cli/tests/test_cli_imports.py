"""Every module of raeburnmemory-cli imports, and every name in its __all__ exists."""

from __future__ import annotations

import importlib

import pytest

from raeburnmemory.core.testing.imports import check_exports, loaded_by, modules_of


@pytest.mark.parametrize("name", modules_of("raeburnmemory.cli", private=True))
def test_module_imports_and_exports_what_it_lists(name: str) -> None:
    check_exports(name)


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
    heavy = ("torch", "sentence_transformers", "uvicorn", "fastapi", "faiss", "psycopg")
    ours = ("raeburnmemory.sqlite", "raeburnmemory.api")
    assert loaded_by("import raeburnmemory.cli", (*heavy, *ours)) == []
