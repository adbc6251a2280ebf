"""One SQLite connection per thread, all closed together.

SQLite connections must not be shared between threads while in use, and the async helpers of
``MemoryGraph`` run their work in worker threads, so every thread gets its own connection the
first time it touches the store. :meth:`ThreadConnections.close` closes them all; a child
process made by ``fork`` opens its own instead of using its parent's.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable

from raeburnmemory.core.errors import StoreError

__all__ = ["Connection", "ThreadConnections"]

#: A connection and whether sqlite-vec is loaded in it.
Connection = tuple[sqlite3.Connection, bool]


class ThreadConnections:
    """Hands each thread its own connection made by ``factory``."""

    def __init__(self, factory: Callable[[], Connection], location: str) -> None:
        self._factory = factory
        self._location = location
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False

    def get(self) -> Connection:
        """This thread's connection, opened on first use."""
        if self._pid != os.getpid():  # forked: the parent's connections are not ours to use
            self._forget()
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            return current
        with self._lock:
            if self._closed:
                raise StoreError(f"{self._location}: the store is closed")
        current = self._factory()
        with self._lock:
            if self._closed:
                current[0].close()
                raise StoreError(f"{self._location}: the store is closed")
            self._all.append(current[0])
        self._local.conn = current
        return current

    def _forget(self) -> None:
        with self._lock:
            self._all = []
            self._pid = os.getpid()
            self._local = threading.local()

    def close(self) -> None:
        """Close every thread's connection; later use raises ``StoreError``."""
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
            self._local = threading.local()
        if self._pid != os.getpid():
            return
        for conn in conns:
            try:
                conn.close()
            except Exception:  # a connection busy in another thread is closed by GC later
                continue
