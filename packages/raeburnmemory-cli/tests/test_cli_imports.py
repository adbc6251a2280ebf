"""Every module of raeburnmemory-cli imports, and every name in its __all__ exists."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

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


@pytest.mark.usefixtures("filled")
def test_a_search_runs_without_pydantic_or_asyncio(db: Path) -> None:
    # Typer checks values through pydantic, which the values of this command line need not;
    # the library's asynchronous methods need asyncio, which one command never awaits
    command = [
        "--db", str(db), "similar", "bake bread", "-k", "3", "--mode", "KEYWORD", "--session", "s1"
    ]  # fmt: skip
    run = (
        "from raeburnmemory.cli import main\n"
        f"try:\n    main({command!r})\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code"
    )
    assert loaded_by(run, ("pydantic", "asyncio")) == []


@pytest.fixture
def filled(add_one: Any) -> None:
    add_one(1, text="how do I bake bread at home", session="s1", agent="baker")
    add_one(2, text="which train goes to the airport", session="s2", agent="guide")
