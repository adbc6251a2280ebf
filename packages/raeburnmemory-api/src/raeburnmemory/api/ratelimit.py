"""A per-client request limit that holds for every worker process on the host.

The counters live in a small SQLite database (write-ahead log) that every worker opens, so
four workers with a limit of 100 requests a minute let one client through 100 times, not 400.
The limit is a sliding log: a request is accepted when fewer than ``limit`` requests of the
same client were accepted in the last ``window`` seconds, and each check-and-record is one
``BEGIN IMMEDIATE`` transaction, so two workers can never both take the last place.

The database is created with mode 0600 (SQLite gives its ``-wal`` and ``-shm`` files the same
mode), and one that belongs to another user is refused: whoever can write it can change the
counts.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from raeburnmemory.api._private import claim_file, refuse_foreign, state_file
from raeburnmemory.core.errors import StoreUnavailableError

__all__ = ["RateDecision", "SQLiteRateLimiter", "default_rate_limit_db"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS hits (client TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS hits_client_at ON hits (client, at)",
)
# Every this many requests a worker also drops the expired entries of every client.
_SWEEP_EVERY = 1000


def default_rate_limit_db(store_location: str) -> Path:
    """The counters file shared by the workers serving one store, in the user's private dir."""
    return state_file("ratelimit", store_location, ".sqlite3")


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may go on and, if not, how long the client should wait."""

    allowed: bool
    remaining: int
    retry_after: int


class SQLiteRateLimiter:
    """At most ``limit`` requests per ``window`` seconds per client key, shared through ``path``."""

    def __init__(self, path: str | os.PathLike[str], limit: int, window: float = 60.0) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.path = Path(path)
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._calls = 0
        what = "rate limit database"
        for companion in ("-wal", "-shm"):
            refuse_foreign(Path(f"{self.path}{companion}"), what)
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            claim_file(self.path, what)
            self._conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._conn.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailableError(
                f"rate limit database {self.path} cannot be opened: {exc}"
            ) from exc

    def hit(self, client: str, now: float | None = None) -> RateDecision:
        """Record one request of ``client`` if the limit allows it, and say whether it did."""
        now = time.time() if now is None else now
        cutoff = now - self.window
        with self._lock:
            self._calls += 1
            try:
                return self._hit(client, now, cutoff)
            except sqlite3.Error as exc:
                raise StoreUnavailableError(
                    f"rate limit database {self.path} cannot be used: {exc}"
                ) from exc

    def _hit(self, client: str, now: float, cutoff: float) -> RateDecision:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if self._calls % _SWEEP_EVERY == 0:
                conn.execute("DELETE FROM hits WHERE at <= ?", (cutoff,))
            else:
                conn.execute("DELETE FROM hits WHERE client = ? AND at <= ?", (client, cutoff))
            count, oldest = conn.execute(
                "SELECT COUNT(*), MIN(at) FROM hits WHERE client = ?", (client,)
            ).fetchone()
            if count < self.limit:
                conn.execute("INSERT INTO hits (client, at) VALUES (?, ?)", (client, now))
                decision = RateDecision(True, self.limit - count - 1, 0)
            else:
                wait = max(1, math.ceil(oldest + self.window - now))
                decision = RateDecision(False, 0, wait)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return decision

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()
