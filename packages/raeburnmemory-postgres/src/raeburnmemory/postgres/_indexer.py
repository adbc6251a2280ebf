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
import time
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


def rebuild(conn: psycopg.Connection[Any], schema: str, dim: int) -> bool:
    """Rebuild ``vectors`` with every pending vector and a freshly built HNSW index.

    Writers wait while it runs; searches go on against the old tables until the swap. Returns
    ``False`` without doing anything when, once the locks are held, the backlog turns out small
    (another process rebuilt or moved it meanwhile).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(schema, "vectors"),))
        conn.execute("LOCK TABLE vectors, pending_vectors IN SHARE ROW EXCLUSIVE MODE")
        if not should_rebuild(conn):
            return False
        create_vector_tables(conn, dim, prefix="next_")
        conn.execute(
            "INSERT INTO next_vectors SELECT * FROM vectors UNION ALL SELECT * FROM pending_vectors"
        )
        create_vector_index(conn, dim, prefix="next_")
        swap_vector_tables(conn, "next_")
    return True


class Indexer:
    """A background thread that puts pending vectors into the index once writes pause.

    Work starts :data:`QUIET` seconds after the last write of this process, or at the latest
    :data:`MAX_DELAY` seconds after the first one not yet handled. A large backlog (a bulk
    import) waits for the pause in any case and is then rebuilt in one pass by ``rebuild``.
    """

    QUIET = 0.5
    MAX_DELAY = 5.0

    def __init__(
        self, connect: Connect, rebuild: Callable[[psycopg.Connection[Any]], object]
    ) -> None:
        self._connect = connect
        self._rebuild = rebuild
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._first = self._last = 0.0  # first unhandled and latest kick (0: none)
        self._stop = threading.Event()

    def kick(self) -> None:
        """Note a write with vectors; the thread handles them once writes pause."""
        with self._lock:
            if self._stop.is_set():
                return
            self._last = time.monotonic()
            self._first = self._first or self._last
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="raeburnmemory-postgres-indexer", daemon=True
                )
                self._thread.start()

    def _delay(self, patient: bool) -> float | None:
        """Seconds to wait before working, or ``None`` when there is nothing to do."""
        if not self._first:
            return None
        due = self._last + self.QUIET
        if not patient:
            due = min(due, self._first + self.MAX_DELAY)
        return max(0.0, due - time.monotonic())

    def _run(self) -> None:
        patient = False  # a large backlog waits for a pause in writing
        while not self._stop.is_set():
            with self._lock:
                delay = self._delay(patient)
                if delay is None:
                    self._thread = None
                    return
                if delay == 0:
                    self._first = 0.0
            if delay:
                self._stop.wait(delay)
                continue
            try:
                with self._connect() as conn:
                    patient = should_rebuild(conn)
                    if patient and time.monotonic() - self._last < self.QUIET:
                        with self._lock:
                            self._first = self._first or self._last
                        continue
                    if patient:
                        self._rebuild(conn)
                        patient = False
                    while not self._stop.is_set() and move_chunk(conn):
                        pass
            except Exception as exc:  # the next write or open tries again
                _log.warning("putting pending vectors into the index failed: %s", exc)
                with self._lock:
                    self._thread = None
                return
        with self._lock:
            self._thread = None

    def wait(self, timeout: float = 60.0) -> None:
        """Wait until the thread has handled every write so far (for tests and tools)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the step in hand and wait for the thread."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
