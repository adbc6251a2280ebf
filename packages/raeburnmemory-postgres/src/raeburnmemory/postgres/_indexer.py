"""Moving bulk-written vectors into the HNSW index, off the writer's path.

Inserting into an HNSW index costs far more than writing the row, so large batches land in
``pending_vectors`` (plain rows, searched exactly) and a background thread moves them into
``vectors`` a chunk per transaction. Several hosts can do this at once: ``SKIP LOCKED`` hands
each its own rows. :func:`drain` does the same in the caller's thread, and :func:`rebuild`
re-creates the index in one build when the backlog is large.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from raeburnmemory.postgres._schema import (
    advisory_key,
    create_vector_index,
    create_vector_tables,
    swap_vector_tables,
)

__all__ = ["Indexer", "drain", "move_chunk", "rebuild", "should_rebuild"]

_log = logging.getLogger("raeburnmemory.postgres")

#: Vectors moved into the index per transaction.
CHUNK = 256
#: A backlog at least this large, and a third of the indexed rows, is rebuilt in one go.
REBUILD_MIN = 1000

_MOVE = (
    "WITH picked AS (SELECT prompt_id FROM pending_vectors LIMIT %s FOR UPDATE SKIP LOCKED), "
    "moved AS (DELETE FROM pending_vectors p USING picked WHERE p.prompt_id = picked.prompt_id "
    "RETURNING p.prompt_id, p.session_id, p.agent_id, p.ts, p.embedding) "
    "INSERT INTO vectors (prompt_id, session_id, agent_id, ts, embedding) "
    "SELECT prompt_id, session_id, agent_id, ts, embedding FROM moved "
    "ON CONFLICT (prompt_id) DO UPDATE SET embedding = EXCLUDED.embedding"
)

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


def move_chunk(conn: psycopg.Connection[Any], size: int = CHUNK) -> int:
    """Move up to ``size`` pending vectors into the index in one transaction; returns how many."""
    with conn.transaction():
        if conn.execute("SELECT to_regclass('pending_vectors') IS NOT NULL").fetchone() != (True,):
            return 0
        # the order every transaction takes these two locks in, so none waits for another in a ring
        conn.execute("LOCK TABLE vectors, pending_vectors IN ROW EXCLUSIVE MODE")
        return conn.execute(_MOVE, (size,)).rowcount


def drain(conn: psycopg.Connection[Any]) -> int:
    """Move every pending vector into the index; returns how many were moved."""
    total = 0
    while moved := move_chunk(conn):
        total += moved
    return total


def should_rebuild(conn: psycopg.Connection[Any]) -> bool:
    """Whether the backlog is large enough that one index build beats moving it row by row."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM pending_vectors), (SELECT count(*) FROM vectors)"
    ).fetchone()
    pending, indexed = (int(row[0]), int(row[1])) if row else (0, 0)
    return pending >= REBUILD_MIN and pending * 3 >= indexed


def rebuild(conn: psycopg.Connection[Any], schema: str, dim: int) -> None:
    """Rebuild ``vectors`` with every pending vector and a freshly built HNSW index.

    Writers wait while it runs; searches go on against the old tables until the swap.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(schema, "vectors"),))
        conn.execute("LOCK TABLE vectors, pending_vectors IN SHARE ROW EXCLUSIVE MODE")
        create_vector_tables(conn, dim, prefix="next_")
        conn.execute(
            "INSERT INTO next_vectors SELECT * FROM vectors UNION ALL SELECT * FROM pending_vectors"
        )
        create_vector_index(conn, dim, prefix="next_")
        swap_vector_tables(conn, "next_")


class Indexer:
    """A background thread that drains ``pending_vectors`` whenever it is woken."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self._stop = threading.Event()

    def kick(self) -> None:
        """Make sure the thread runs (or runs once more) to move what is pending now."""
        with self._lock:
            if self._stop.is_set():
                return
            self._again = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="raeburnmemory-postgres-indexer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._again or self._stop.is_set():
                    self._thread = None
                    return
                self._again = False
            try:
                with self._connect() as conn:
                    while not self._stop.is_set() and move_chunk(conn):
                        pass
            except Exception as exc:  # the next write or open tries again
                _log.warning("moving pending vectors into the index failed: %s", exc)
                with self._lock:
                    self._thread = None
                return

    def wait(self, timeout: float = 60.0) -> None:
        """Wait until the thread has moved everything it was asked to (for tests and tools)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the chunk in hand and wait for the thread."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
