"""Shared fixtures: stores on disk, and Qdrant targets (local mode, plus a server when named).

Set ``RAEBURN_TEST_QDRANT_URL`` (for example ``http://localhost:6333``) to run the ``target``
parametrized tests against a server too; each test then uses its own collection and drops it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient

from raeburnmemory.core.registry import load_storage_backend
from raeburnmemory.core.store import Store

SERVER_ENV = "RAEBURN_TEST_QDRANT_URL"


@pytest.fixture(autouse=True)
def _no_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests say where Qdrant is; a URL or key in the caller's environment must not leak in."""
    monkeypatch.delenv("RAEBURN_QDRANT_URL", raising=False)
    monkeypatch.delenv("RAEBURN_QDRANT_API_KEY", raising=False)


@pytest.fixture(params=["local", "server"])
def target(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Index options for local mode, or for the server in ``$RAEBURN_TEST_QDRANT_URL``."""
    if request.param == "local":
        yield {}
        return
    url = os.environ.get(SERVER_ENV, "").strip()
    if not url:
        pytest.skip(f"set {SERVER_ENV} to run against a Qdrant server")
    collection = f"raeburn-test-{uuid.uuid4().hex[:12]}"
    yield {"qdrant_url": url, "collection": collection}
    client = QdrantClient(url=url, check_compatibility=False)
    client.delete_collection(collection)
    client.close()


@pytest.fixture
def open_store(tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """Opens JSON stores under ``tmp_path`` (``open_store("name.json")``), closed after the test."""
    opened: list[Store] = []

    def open_(name: str = "graph.json", backend: str = "json") -> Store:
        store = load_storage_backend(backend).open(str(tmp_path / name))
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
