"""Real servers for tests: ``uvicorn raeburnmemory.api:app`` (or ``raeburnmemory serve``) on
127.0.0.1, each in its own process group, stopped when the test ends.

The tests of the API and of the command line share it::

    @pytest.fixture
    def start_server(tmp_path):
        with running_servers(tmp_path) as start:
            yield start

    def test_x(start_server):
        server = start_server({"RAEBURN_API_KEY": "k"}, workers=1)
        httpx.get(server.url + "/healthz")

Each server gets its own store under the folder (with the offline encoder) unless ``env`` names
one. Importing this module needs only httpx, which the API depends on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

__all__ = [
    "LAUNCHES",
    "Server",
    "StartServer",
    "free_port",
    "running_servers",
    "serve_command",
    "uvicorn_command",
    "uvicorn_trace_command",
]


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


#: ``start(env, workers=4, wait=True, launch="uvicorn", preexec_fn=None)``: a started server.
StartServer = Callable[..., Server]


@contextlib.contextmanager
def running_servers(folder: Path) -> Iterator[StartServer]:
    """Starts real servers whose stores, logs and private files live in ``folder``.

    ``start(env, workers=4)`` starts one (``env`` adds to or overrides the defaults: a JSON store
    of its own with the offline encoder), waits until it answers unless ``wait=False``, and
    returns it. ``launch="serve"`` starts ``raeburnmemory serve`` instead of ``uvicorn
    raeburnmemory.api:app``; ``preexec_fn`` runs in the server's process before it starts.
    Every server is stopped when the ``with`` block ends.
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
            "RAEBURN_DB_PATH": str(folder / f"store{len(servers)}" / "graph.json"),
            "RAEBURN_RATE_LIMIT_DB": str(folder / f"limits{len(servers)}.sqlite3"),
            "HOME": str(folder),
            # The server's private directory goes under the folder, not the machine's /tmp.
            "TMPDIR": str(folder),
            "XDG_RUNTIME_DIR": "",
        }
        log = folder / f"server{len(servers)}.log"
        server = Server({**base, **env}, workers, log, LAUNCHES[launch], preexec_fn)
        servers.append(server)
        if wait:
            server.wait_ready()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
