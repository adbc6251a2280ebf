"""Following other writers through the ``changes`` table.

Every write transaction appends one row: who wrote (a random id per store object), what
(a :class:`~raeburnmemory.core.store.ChangeKind`, stored as ``a`` add, ``d`` delete, ``r``
every vector replaced) and the prompt ids. Sequence numbers
alone cannot tell a reader where to resume: a transaction may take a number and commit after a
later one did. So each row also records its transaction id, and a reader remembers the oldest
transaction still running when it last looked (the snapshot's ``xmin``). Everything older is
settled; rows from newer transactions are read again next time, skipping those already seen.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from raeburnmemory.core.store import ChangeKind

__all__ = ["COUNT_SHARDS", "ChangeFeed", "Changes", "log_change", "prune_changes", "version_of"]

#: How each kind of change is written in the ``op`` column. These codes are data: processes of
#: another version read them too.
_STORED_CODE = {ChangeKind.ADD: "a", ChangeKind.DELETE: "d", ChangeKind.RESET: "r"}
_KIND_OF_CODE = {code: kind for kind, code in _STORED_CODE.items()}

#: Rows the interaction count is spread over (``counts``).
COUNT_SHARDS = 16

_FEED = (
    "SELECT s.xmin::text, (SELECT value FROM meta WHERE key = 'changes_floor'), "
    "c.seq, c.xid::text, c.writer, c.op, c.prompt_ids "
    "FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) AS s "
    "LEFT JOIN changes AS c ON c.xid >= %s::xid8 ORDER BY c.seq"
)


def log_change(
    conn: psycopg.Connection[Any],
    writer: str,
    kind: ChangeKind,
    prompt_ids: Sequence[str],
    delta: int = 0,
) -> None:
    """Append a change row and adjust the count: the last statements of a write transaction.

    The count lives in :data:`COUNT_SHARDS` rows and each transaction adds its ``delta`` to one
    picked at random, last of all, so it holds that row's lock only while it commits and never
    waits for anything else meanwhile (no lock cycle with another writer).
    """
    conn.execute(
        "INSERT INTO changes (writer, op, prompt_ids) VALUES (%s, %s, %s)",
        (writer, _STORED_CODE[kind], list(prompt_ids)),
    )
    if delta:
        conn.execute(
            "UPDATE counts SET interactions = interactions + %s WHERE shard = %s",
            (delta, random.randrange(COUNT_SHARDS)),
        )


def prune_changes(conn: psycopg.Connection[Any]) -> None:
    """Delete change rows older than a day from settled transactions; note the new floor."""
    conn.execute(
        "WITH gone AS (DELETE FROM changes WHERE at < now() - interval '1 day' "
        "AND xid < pg_snapshot_xmin(pg_current_snapshot()) RETURNING xid) "
        "INSERT INTO meta (key, value) SELECT 'changes_floor', "
        "((max(xid)::text::numeric) + 1)::text FROM gone HAVING count(*) > 0 "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
    )


_VERSION = (
    "SELECT max(seq), count(*), (SELECT value FROM meta WHERE key = 'changes_floor'), "
    "(SELECT writer || '@' || at::text FROM changes ORDER BY seq DESC LIMIT 1) FROM changes"
)


def version_of(conn: psycopg.Connection[Any]) -> str | None:
    """The store's version token, or ``None`` when the change log is empty.

    A transaction may commit a lower sequence number after a higher one was visible, so the
    highest number alone could stay the same across a commit; the row count cannot (only pruning
    lowers it, and pruning moves the floor). The last row's writer and time tell stores apart.
    """
    row = conn.execute(_VERSION).fetchone()
    if row is None or row[0] is None:
        return None
    last, rows, floor, newest = row
    return f"postgres:{last}:{rows}:{floor}:{newest}"


@dataclass
class Changes:
    """Net effect of other writers' changes: prompt ids added and removed, or a reset."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reset: bool = False


class ChangeFeed:
    """Where one store object stands in the ``changes`` table."""

    def __init__(self, writer: str) -> None:
        self.writer = writer
        self._xmin = 0
        self._seen: dict[int, int] = {}  # seq -> xid of rows read from unsettled transactions
        self._lock = threading.Lock()

    def _read(self, conn: psycopg.Connection[Any]) -> tuple[int, int, list[tuple[Any, ...]]]:
        rows = conn.execute(_FEED, (str(self._xmin),)).fetchall()
        xmin = int(rows[0][0])
        floor = int(rows[0][1]) if rows[0][1] is not None else 0
        return xmin, floor, [row[2:] for row in rows if row[2] is not None]

    def baseline(self, conn: psycopg.Connection[Any]) -> None:
        """Count every change visible to ``conn``'s snapshot as seen (the caller has the data)."""
        with self._lock:
            self._xmin = 0
            self._seen = {}
            rows = conn.execute(_FEED.replace("c.xid >= %s::xid8", "c.xid >= s.xmin")).fetchall()
            self._xmin = int(rows[0][0])
            self._seen = {int(row[2]): int(row[3]) for row in rows if row[2] is not None}

    def log_change(
        self,
        conn: psycopg.Connection[Any],
        kind: ChangeKind,
        prompt_ids: Sequence[str],
        delta: int = 0,
    ) -> None:
        """:func:`log_change` as this feed's writer."""
        log_change(conn, self.writer, kind, prompt_ids, delta)

    def changed_ids(self, conn: psycopg.Connection[Any]) -> Changes:
        """Other writers' changes since the last call (or the baseline)."""
        with self._lock:
            xmin, floor, rows = self._read(conn)
            result = Changes(reset=self._xmin < floor)
            last: dict[str, ChangeKind | None] = {}
            for seq, xid, writer, code, prompt_ids in rows:
                if seq in self._seen:
                    continue
                self._seen[int(seq)] = int(xid)
                if writer == self.writer:
                    continue
                kind = _KIND_OF_CODE.get(code)
                if kind is ChangeKind.RESET:
                    result.reset = True
                for pid in prompt_ids:
                    last[pid] = kind
            self._xmin = xmin
            self._seen = {seq: xid for seq, xid in self._seen.items() if xid >= xmin}
        result.added = [pid for pid, kind in last.items() if kind is ChangeKind.ADD]
        result.removed = [pid for pid, kind in last.items() if kind is ChangeKind.DELETE]
        return result
