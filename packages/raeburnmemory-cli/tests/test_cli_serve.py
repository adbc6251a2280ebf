"""serve: the HTTP API under a real uvicorn on a free port, and a clear word without it."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.cli import _serve
from raeburnmemory.cli._settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[str], timeout: float = 30) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {process.communicate()[1]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


@pytest.mark.skipif(
    importlib.util.find_spec("raeburnmemory.api") is None,
    reason="raeburnmemory-api is not installed",
)
def test_serve_answers_healthz_and_searches_the_store(
    cli: Any, db: Path, add_one: Any, tmp_path: Path
) -> None:
    add_one(1, text="where is the station")
    port = free_port()
    env = {**os.environ, "RAEBURN_EMBED_MODEL": "none"}
    env.pop("RAEBURN_DB_PATH", None)
    args = ["--db", str(db), "--model", "none", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-m", "raeburnmemory.cli", *args, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/memory/similar",
            data=json.dumps({"text": "station"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        assert body["ids"] == ["p1"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert "Traceback" not in server.stderr.read() if server.stderr else True


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
