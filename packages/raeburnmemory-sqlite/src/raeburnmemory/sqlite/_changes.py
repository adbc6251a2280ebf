"""Following other writers through the ``changes`` table of a SQLite store.

Every write transaction appends one row per prompt it touched: the operation (``add``,
``delete``, or ``reset`` when every vector was replaced), the prompt id, and the writer (a
random id per store object). SQLite serializes writers, so the AUTOINCREMENT sequence numbers
rows in commit order and a reader resumes after the last one it read. ``compact`` trims old
rows and records how far in ``meta.changes_floor``: a reader behind the floor starts over.
Mirrors ``raeburnmemory.postgres._changes``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from raeburnmemory.core.store import ChangeKind
from raeburnmemory.sqlite._meta import get_meta

__all__ = ["ChangeLog", "ChangedIds", "version_of"]


class ChangedIds(NamedTuple):
    """Prompts other writers added or deleted since the last look, or ``reset``: start over."""

    ids: list[str]
    reset: bool = False


def _position(conn: Any) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return int(row[0]) if row else 0


def version_of(conn: Any) -> str | None:
    """The store's version token: its last change row (the writer's random id and the time
    make it differ from another store's); ``None`` when the log is empty or that row was trimmed."""
    row = conn.execute("SELECT seq, writer, at FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None or int(row[0]) != _position(conn):
        return None
    return f"sqlite:{int(row[0])}:{int(row[1])}:{float(row[2])!r}"


class ChangeLog:
    """Where one store object stands in the ``changes`` table, and what it wrote there.

    ``lock`` is held while the position moves: by :meth:`changed_ids` callers and by
    :meth:`committed`.
    """

    def __init__(self) -> None:
        self.writer = secrets.randbits(62)
        """This object's id in the ``writer`` column."""
        self.read_to = 0
        """The sequence number of the last change row read (or counted as seen)."""
        self.lock = threading.Lock()
        self._own = threading.local()  # (first, last) row numbers this thread's transaction logged

    def start(self, conn: Any) -> None:
        """Count every change row so far as seen (the store was just opened)."""
        self.read_to = _position(conn)

    def log_change(self, conn: Any, kind: ChangeKind, prompt_ids: Iterable[str | None]) -> None:
        """Append rows inside the current write transaction, and note them as this object's."""
        now = time.time()
        op = kind.value  # stored as the word itself: "add", "delete", "reset"
        rows = [(op, pid, self.writer, now) for pid in prompt_ids]
        conn.executemany(
            "INSERT INTO changes (op, prompt_id, writer, at) VALUES (?, ?, ?, ?)", rows
        )
        # AUTOINCREMENT numbers our rows one after another: we hold the write lock.
        after = _position(conn)
        earlier = getattr(self._own, "logged", None)
        self._own.logged = (earlier[0] if earlier else after - len(rows), after)

    def begin(self) -> None:
        """A write transaction of this thread starts: nothing of it is logged yet."""
        self._own.logged = None

    def rolled_back(self) -> None:
        """The transaction was rolled back: its rows never existed."""
        self._own.logged = None

    def committed(self) -> None:
        """The transaction committed: its rows count as seen if nothing came before them."""
        logged, self._own.logged = getattr(self._own, "logged", None), None
        if logged is not None:
            with self.lock:
                if self.read_to == logged[0]:
                    self.read_to = logged[1]

    def moved(self, conn: Any) -> bool:
        """One cheap query: has the log grown, or been trimmed, since the last look?"""
        last, floor = conn.execute(
            "SELECT (SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'changes'), "
            "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_floor')"
        ).fetchone()
        return bool((last or 0) != self.read_to or (floor or 0) > self.read_to)

    def changed_ids(self, conn: Any) -> ChangedIds:
        """Other writers' prompts since the last look, each once; moves the position (hold
        :attr:`lock`, and read in one transaction with whatever the ids are used for)."""
        floor = int(get_meta(conn, "changes_floor") or 0)
        rows = conn.execute(
            "SELECT seq, op, prompt_id, writer FROM changes WHERE seq > ? ORDER BY seq",
            (self.read_to,),
        ).fetchall()
        trimmed = self.read_to < floor
        self.read_to = max(floor, int(rows[-1][0]) if rows else self.read_to)
        foreign = [row for row in rows if row[3] != self.writer]
        if trimmed or any(row[1] == ChangeKind.RESET.value for row in foreign):
            return ChangedIds([], reset=True)
        return ChangedIds(list(dict.fromkeys(row[2] for row in foreign)))
