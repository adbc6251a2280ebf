"""Finding the server, and failing clearly and quickly when it cannot be used."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from raeburnmemory.core.errors import (
    ConfigurationError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import EncoderInfo, SearchFilter
from raeburnmemory.core.testing import interactions, unit_vectors
from raeburnmemory.postgres import DSN_ENV, PostgresStore
from raeburnmemory.postgres._dsn import endpoint, redact, resolve_dsn


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_the_connection_string_comes_from_option_then_url_then_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DSN_ENV, raising=False)
    url = "postgresql://me@db.example:6543/memory"
    assert resolve_dsn("/tmp/graph.json", {"dsn": "host=a dbname=b"}) == "host=a dbname=b"
    assert resolve_dsn(url, {}) == url
    with pytest.raises(ConfigurationError, match=DSN_ENV):
        resolve_dsn("/home/me/graph.json", {})
    monkeypatch.setenv(DSN_ENV, "  postgres://env@host/db ")
    assert resolve_dsn(None, {}) == "postgres://env@host/db"
    assert resolve_dsn("graph.json", {}) == "postgres://env@host/db"
    with pytest.raises(ConfigurationError, match="dsn"):
        resolve_dsn(None, {"dsn": 5})
    with pytest.raises(ConfigurationError, match="not a valid"):
        resolve_dsn(None, {"dsn": "host='unterminated"})


def test_passwords_never_show() -> None:
    assert redact("postgresql://me:s3cret@h:5/db?sslmode=require&password=x") == (
        "postgresql://me:***@h:5/db?sslmode=require&password=***"
    )
    shown = redact("host=h user=me password=s3cret dbname=db")
    assert sorted(shown.split()) == ["dbname=db", "host=h", "password=***", "user=me"]
    assert "s3cret" not in redact("postgresql://me:s3cret@h1,h2/db")
    assert endpoint("postgresql://me@h1:5433,h2/db") == "h1:5433,h2:5432"
    assert endpoint("dbname=x host=10.0.0.9") == "10.0.0.9:5432"


def test_a_closed_port_is_reported_at_once() -> None:
    port = _free_port()
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port}") as caught:
        PostgresStore.open(None, options={"dsn": f"postgresql://me:pw@127.0.0.1:{port}/db"})
    assert time.monotonic() - started < 5
    assert "pw" not in str(caught.value)


def test_a_server_that_never_answers_times_out(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{silent_server}"):
        PostgresStore.open(
            None,
            options={"dsn": f"postgresql://me@127.0.0.1:{silent_server}/db", "connect_timeout": 2},
        )
    assert time.monotonic() - started < 8


def test_a_missing_database_or_bad_option_is_clear(pg_dsn: str) -> None:
    with pytest.raises(StoreNotFoundError, match="does not exist"):
        PostgresStore.open(None, options={"dsn": make_conninfo(pg_dsn, dbname="no_such_db")})
    for bad in ({"schema": "bad name"}, {"pool_size": 0}, {"connect_timeout": "soon"}):
        with pytest.raises(ConfigurationError):
            PostgresStore.open(None, options={"dsn": pg_dsn, **bad})
    with pytest.raises(ConfigurationError, match=r"option\(s\) pool for the postgres store"):
        PostgresStore.open(None, options={"dsn": pg_dsn, "pool": 3})


def test_memory_graph_takes_the_dsn_from_the_environment(
    pg_dsn: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DSN_ENV, pg_dsn)
    with MemoryGraph(storage_backend="postgres", embedding_model=None, schema=pg_schema) as graph:
        graph.batch_add(interactions(3))
        stats = graph.stats()
        assert stats["storage_backend"] == "postgres"
        assert stats["vector_backend"] == "pgvector"
        assert stats["location"] == redact(pg_dsn)
    with pytest.raises(ConfigurationError, match="unknown option"):
        MemoryGraph(storage_backend="postgres", embedding_model=None, pool=3)


@pytest.fixture
def limited_database(pg_dsn: str) -> Iterator[str]:
    """A database without pgvector, and a role that may not enable it."""
    name = f"noext_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            "DO $$ BEGIN CREATE ROLE limited LOGIN; EXCEPTION WHEN duplicate_object "
            "THEN NULL; END $$"
        )
    yield make_conninfo(pg_dsn, dbname=name, user="limited")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_without_rights_to_enable_pgvector_the_error_says_what_to_run(
    limited_database: str,
) -> None:
    with pytest.raises(StoreError, match="CREATE EXTENSION vector") as caught:
        PostgresStore.open(None, options={"dsn": limited_database})
    assert "administrator" in str(caught.value)


def test_a_read_only_server_serves_reads_and_refuses_writes_clearly(
    open_store: Any, pg_dsn: str, pg_schema: str
) -> None:
    primary = open_store()
    primary.set_encoder_info(EncoderInfo("test-encoder", 8))
    vectors = unit_vectors(5, 8)
    primary.add(interactions(5), vectors)
    replica_dsn = make_conninfo(pg_dsn, options="-c default_transaction_read_only=on")
    replica = PostgresStore.open(None, options={"dsn": replica_dsn, "schema": pg_schema})
    try:
        replica.load_vectors()
        assert replica.vector_search(vectors[2:3], 1, SearchFilter())[0][0] == "p2"
        primary.add(interactions(1, start=9), unit_vectors(1, 8))
        assert replica.refresh().added.ids == ["p9"]
        assert replica.keyword_search("bread", 1, SearchFilter())
        with pytest.raises(StoreError, match="read-only"):
            replica.add(interactions(1, start=20), unit_vectors(1, 8))
        assert replica.count() == 6
    finally:
        replica.close()


@pytest.fixture
def fresh_database(pg_dsn: str) -> Iterator[str]:
    """A new, empty database on the test server (no pgvector enabled yet)."""
    name = f"fresh_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_hosts_starting_together_on_a_fresh_database_all_open_it(fresh_database: str) -> None:
    starters = 8
    gate = threading.Barrier(starters)
    failures: list[BaseException] = []
    opened: list[PostgresStore] = []

    def start() -> None:
        gate.wait()
        try:
            opened.append(PostgresStore.open(None, options={"dsn": fresh_database}))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in opened:
        store.close()
    assert not failures, failures
    with psycopg.connect(fresh_database) as conn:
        found = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'")
        assert found.fetchone() == (1,)
