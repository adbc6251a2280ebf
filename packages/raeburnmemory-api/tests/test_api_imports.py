"""Every public module of raeburnmemory-api imports, and every name in its __all__ exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from raeburnmemory.core.testing.imports import check_exports, loaded_by, modules_of


@pytest.mark.parametrize("name", modules_of("raeburnmemory.api", private=True))
def test_public_names_exist(name: str) -> None:
    check_exports(name)


def test_importing_the_app_opens_no_store(tmp_path: Path) -> None:
    env = {"RAEBURN_DB_PATH": str(tmp_path / "store" / "graph.json"), "RAEBURN_EMBED_MODEL": "none"}
    statement = (
        "from fastapi import FastAPI\nfrom raeburnmemory.api import app\n"
        "assert isinstance(app, FastAPI)"
    )
    assert loaded_by(statement, ("torch", "sentence_transformers"), env=env) == []
    assert not (tmp_path / "store").exists()


def test_the_client_does_not_import_the_server() -> None:
    assert loaded_by("import raeburnmemory.api.client", ("fastapi", "starlette", "uvicorn")) == []
