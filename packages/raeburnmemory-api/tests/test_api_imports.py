"""Every public module of raeburnmemory-api imports, and every name in its __all__ exists."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = [
    "raeburnmemory.api",
    "raeburnmemory.api.app",
    "raeburnmemory.api.client",
    "raeburnmemory.api.errors",
    "raeburnmemory.api.keys",
    "raeburnmemory.api.middleware",
    "raeburnmemory.api.models",
    "raeburnmemory.api.namespaces",
    "raeburnmemory.api.ratelimit",
    "raeburnmemory.api.routes",
    "raeburnmemory.api.runtime",
    "raeburnmemory.api.settings",
    "raeburnmemory.api._clients",
    "raeburnmemory.api._docs",
    "raeburnmemory.api._mcp",
    "raeburnmemory.api._private",
    "raeburnmemory.api._responses",
]


@pytest.mark.parametrize("name", MODULES)
def test_public_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"


def _run(code: str, tmp_path: Path) -> str:
    env = {"RAEBURN_DB_PATH": str(tmp_path / "store" / "graph.json"), "RAEBURN_EMBED_MODEL": "none"}
    command = [sys.executable, "-c", code]
    env = {**os.environ, **env}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return done.stdout.strip()


def test_importing_the_app_opens_no_store(tmp_path: Path) -> None:
    code = (
        "from fastapi import FastAPI; from raeburnmemory.api import app; "
        "print(isinstance(app, FastAPI))"
    )
    assert _run(code, tmp_path) == "True"
    assert not (tmp_path / "store").exists()


def test_the_client_does_not_import_the_server(tmp_path: Path) -> None:
    code = (
        "import sys; import raeburnmemory.api.client; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))"
    )
    assert _run(code, tmp_path) == "[]"
