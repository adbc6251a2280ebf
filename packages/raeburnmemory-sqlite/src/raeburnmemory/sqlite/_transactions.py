"""The SQLite store's transactions: one write transaction at a time, consistent reads, bulk.

Every driver error leaves here as one of the library's, naming the database file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import (
    CorruptStoreError,
    RaeburnMemoryError,
    StoreError,
    StoreLockedError,
    StorePermissionError,
)
from raeburnmemory.sqlite._access import Access
from raeburnmemory.sqlite._changes import ChangeLog
from raeburnmemory.sqlite._connections import Connection, ThreadConnections
from raeburnmemory.sqlite._driver import errors
from raeburnmemory.sqlite._schema import is_permission_error

__all__ = ["Transactions"]


class Transactions:
    """Transactions on the connections of one store object, each thread on its own."""

    def __init__(
        self,
        pool: ThreadConnections,
        path: Path,
        *,
        access: Access,
        busy_timeout: float,
        changes: ChangeLog,
    ) -> None:
        self.pool = pool
        self.path = path
        self.access = access
        self.busy_timeout = busy_timeout
        """Seconds a writer waits for another before ``StoreLockedError``."""
        self._changes = changes
        self._bulk_conn: Any = None

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn driver errors into the library's, naming the database file."""
        try:
            yield
        except RaeburnMemoryError:
            raise
        except errors().Error as exc:
            raise self._translate(exc) from exc

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """This thread's connection, for reads outside a transaction (errors translated)."""
        with self.guard():
            conn, _ = self.pool.get()
            yield conn

    def _translate(self, exc: Exception) -> RaeburnMemoryError:
        message = str(exc)
        lowered = message.lower()
        if is_permission_error(exc):
            readonly = self.access is not Access.WRITE or "readonly" in lowered
            return StorePermissionError(self.path, "write" if readonly else "open")
        if "locked" in lowered or "busy" in lowered:
            return StoreLockedError(self.path, self.busy_timeout)
        if any(word in lowered for word in ("malformed", "not a database", "corrupt")):
            return CorruptStoreError(self.path, f"cannot be read: {message}")
        return StoreError(f"{self.path}: {message}")

    @contextmanager
    def _transaction(self, conn: Any) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error).

        After the commit, this object's own change-log entries count as seen when nothing else
        was logged before them, so the next refresh need not read them back.
        """
        self._changes.begin()
        with self.guard():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                self._changes.rolled_back()
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self._changes.committed()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, or the bulk one when inside :meth:`bulk`."""
        conn, vec_loaded = self.pool.get()
        if self._bulk_conn is conn:
            yield conn, vec_loaded
            return
        with self._transaction(conn):
            yield conn, vec_loaded

    @contextmanager
    def read(self) -> Iterator[Any]:
        """Several reads that see one consistent state of the database."""
        conn, _ = self.pool.get()
        if self._bulk_conn is conn:
            yield conn
            return
        with self.guard():
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Run every write of this thread in the block as one transaction, committed at its end."""
        conn, _ = self.pool.get()
        with self._transaction(conn):
            self._bulk_conn = conn
            try:
                yield
            finally:
                self._bulk_conn = None
