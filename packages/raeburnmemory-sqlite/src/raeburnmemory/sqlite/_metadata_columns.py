"""The SQLite store's metadata as column arrays in memory, while the database does not change.

A metadata filter in SQL reads and parses every row's JSON (over 100 ms at 100,000 rows); the
same filter over :class:`~raeburnmemory.core._where_columns.WhereColumns` takes a millisecond.
:class:`SQLiteMetadataColumns` builds the columns when the same unchanged database is filtered a
second time, and uses them only while nothing changed: a commit by any other connection (other
processes, the store's bulk connection) changes ``PRAGMA data_version`` of the reading
connection, and its own writes change its ``total_changes``. Otherwise the caller answers in SQL,
so writes never wait for a build and an answer never comes from stale columns.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from raeburnmemory.core._where_columns import WhereColumns
from raeburnmemory.core.where import Where
from raeburnmemory.sqlite._rows import load_dict

__all__ = ["SQLiteMetadataColumns"]


def _version(conn: Any) -> tuple[int, int]:
    """What changes whenever the database does, as seen from ``conn``."""
    data_version = int(conn.execute("PRAGMA data_version").fetchone()[0])
    return data_version, int(conn.total_changes)


class SQLiteMetadataColumns:
    """Column arrays of the ``interactions`` metadata, tied to one connection and version."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: Any = None  # held, so that its identity stays its own
        self._built: tuple[int, int] | None = None
        self._seen: tuple[int, int] | None = None
        self._columns: WhereColumns | None = None
        self._ids: list[str] = []

    def forget(self) -> None:
        """Let the columns and the connection go (the store closed)."""
        with self._lock:
            self._conn = self._built = self._seen = self._columns = None
            self._ids = []

    def matching(self, conn: Any, where: Where) -> list[str] | None:
        """The prompt ids passing ``where`` in insertion order, or ``None``: answer in SQL (the
        database changed since the columns were built, or was filtered once only since)."""
        with self._lock:
            version = _version(conn)
            if conn is not self._conn or version != self._built:
                if conn is not self._conn or version != self._seen:
                    self._conn, self._seen, self._built, self._columns = conn, version, None, None
                    return None
                self._build(conn, version)
            assert self._columns is not None
            rows = np.flatnonzero(self._columns.mask(where)).tolist()
            return [self._ids[row] for row in rows]

    def _build(self, conn: Any, version: tuple[int, int]) -> None:
        self._columns, self._ids = None, []
        rows = conn.execute("SELECT prompt_id, metadata FROM interactions ORDER BY seq").fetchall()
        self._columns = WhereColumns.build([load_dict(text) for _, text in rows])
        self._ids = [row[0] for row in rows]
        self._built = version
