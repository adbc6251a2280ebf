"""Connections: the first one (which migrates), the pool, and clear errors when they fail."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from raeburnmemory.core.errors import (
    RaeburnMemoryError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from raeburnmemory.core.json_text import loads
from raeburnmemory.postgres._dsn import endpoint
from raeburnmemory.postgres._rows import RawVector, RawVectorDumper
from raeburnmemory.postgres._schema import Database, search_path_sql

__all__ = ["Pool", "connect", "open_pool", "retrying", "translated"]

Pool = ConnectionPool[psycopg.Connection[Any]]
T = TypeVar("T")

_APP = "raeburnmemory"
# Errors that mean "another transaction got in the way; run it again".
_RETRY = (
    psycopg.errors.UniqueViolation,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
)
_ATTEMPTS = 8


def _reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def connect(dsn: str, timeout: int) -> psycopg.Connection[Any]:
    """One autocommit connection, or a clear error naming the server within ``timeout``."""
    try:
        return psycopg.connect(dsn, connect_timeout=timeout, autocommit=True, application_name=_APP)
    except psycopg.OperationalError as exc:
        reason = _reason(exc)
        if "database" in reason and "does not exist" in reason:
            raise StoreNotFoundError(
                f"PostgreSQL at {endpoint(dsn)}: {reason}; create it first (createdb)"
            ) from None
        raise StoreUnavailableError(
            f"cannot reach PostgreSQL at {endpoint(dsn)} (waited at most {timeout} s): {reason}"
        ) from None


def open_pool(dsn: str, database: Database, *, size: int, timeout: int, ef_search: int) -> Pool:
    """A started pool whose connections use the store's schema, UTC, pgvector's types and the
    HNSW search settings."""

    def configure(conn: psycopg.Connection[Any]) -> None:
        register_vector(conn)
        set_json_loads(loads, conn)  # a record nested past the recursion limit still reads
        info = conn.adapters.types["vector"]
        dumper = type("VectorDumper", (RawVectorDumper,), {"oid": info.oid})
        conn.adapters.register_dumper(RawVector, dumper)
        conn.execute(search_path_sql(database.schema, database.extension_schema, local=False))
        conn.execute("SET TimeZone TO 'UTC'")
        conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(ef_search)))
        if database.iterative_scans:
            conn.execute("SET hnsw.iterative_scan = relaxed_order")

    pool: Pool = ConnectionPool(
        dsn,
        min_size=1,
        max_size=max(1, size),
        kwargs={"autocommit": True, "connect_timeout": timeout, "application_name": _APP},
        configure=configure,
        check=ConnectionPool.check_connection,
        open=False,
        timeout=float(max(10, 2 * timeout)),
        name=f"raeburnmemory-{database.schema}",
    )
    try:
        pool.open(wait=True, timeout=float(timeout) + 1.0)
    except PoolTimeout:
        pool.close()
        raise StoreUnavailableError(
            f"cannot reach PostgreSQL at {endpoint(dsn)}: no connection within {timeout} s"
        ) from None
    return pool


@contextmanager
def translated(dsn: str) -> Iterator[None]:
    """Turn driver failures into raeburnmemory errors that name the server."""
    try:
        yield
    except RaeburnMemoryError:
        raise
    except PoolTimeout:
        raise StoreUnavailableError(
            f"PostgreSQL at {endpoint(dsn)} gave no connection in time (unreachable, or every "
            "pooled connection busy)"
        ) from None
    except psycopg.errors.ReadOnlySqlTransaction:
        raise StoreError(
            f"PostgreSQL at {endpoint(dsn)} is read-only (a replica?): write through the primary"
        ) from None
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as exc:
        raise StoreNotFoundError(
            f"the store's tables at {endpoint(dsn)} are gone ({_reason(exc)})"
        ) from None
    except psycopg.errors.TransactionRollback as exc:
        raise StoreError(f"PostgreSQL at {endpoint(dsn)}: {_reason(exc)}") from exc
    except psycopg.OperationalError as exc:
        raise StoreUnavailableError(f"PostgreSQL at {endpoint(dsn)}: {_reason(exc)}") from None
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL at {endpoint(dsn)}: {_reason(exc)}") from exc


def retrying(work: Callable[[], T]) -> T:
    """Run a write transaction again when a concurrent writer made it fail."""
    for attempt in range(_ATTEMPTS):
        try:
            return work()
        except _RETRY:
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.005 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover
