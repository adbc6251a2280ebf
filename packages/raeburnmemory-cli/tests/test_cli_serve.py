"""serve: the HTTP API under a real uvicorn on a free port, and a clear word without it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.cli import _serve
from raeburnmemory.cli._settings import Settings

MODULE = [sys.executable, "-m", "raeburnmemory.cli"]


@pytest.mark.skipif(
    importlib.util.find_spec("raeburnmemory.api") is None,
    reason="raeburnmemory-api is not installed",
)
def test_serve_answers_healthz_and_searches_the_store(
    cli: Any, db: Path, add_one: Any, tmp_path: Path
) -> None:
    import httpx

    from raeburnmemory.api.testing import Server

    add_one(1, text="where is the station")
    args = ["--db", str(db), "--model", "none", "serve"]

    def launch(port: int, workers: int) -> list[str]:
        return [*MODULE, *args, "--port", str(port), "--workers", str(workers)]

    # The store comes from the command line; the server's private files stay under tmp_path.
    env = {"RAEBURN_EMBED_MODEL": "none", "TMPDIR": str(tmp_path), "XDG_RUNTIME_DIR": ""}
    server = Server(env, 1, tmp_path / "server.log", launch)
    try:
        server.wait_ready()
        found = httpx.post(f"{server.url}/memory/similar", json={"text": "station"}, timeout=10)
        assert found.json()["ids"] == ["p1"]
    finally:
        server.stop()
    assert "Traceback" not in server.output()


def test_serve_without_the_api_says_what_to_install(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_serve, "_api_installed", lambda: False)
    cli("serve").assert_error(1, "pip install raeburnmemory-api")


def test_serve_rejects_a_bad_port(cli: Any) -> None:
    cli("serve", "--port", "70000").assert_error(2, "'--port'")


def test_the_global_options_reach_the_api_through_its_variables() -> None:
    settings = Settings(db="/data/graph.db", backend="sqlite", vectors="sqlite-vec", model="none")
    assert _serve.api_environment(settings) == {
        "RAEBURN_STORAGE_BACKEND": "sqlite",
        "RAEBURN_DB_PATH": "/data/graph.db",
        "RAEBURN_VECTOR_BACKEND": "sqlite-vec",
        "RAEBURN_EMBED_MODEL": "none",
    }
    postgres = Settings(db="postgresql://u@h/db", backend="postgres")
    assert _serve.api_environment(postgres) == {
        "RAEBURN_STORAGE_BACKEND": "postgres",
        "RAEBURN_POSTGRES_DSN": "postgresql://u@h/db",
    }
