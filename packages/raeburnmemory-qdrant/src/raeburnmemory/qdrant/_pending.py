"""Changes the store has and Qdrant does not have yet, kept while Qdrant cannot be reached.

Only the latest change of each prompt matters (an add then a remove is a remove), so the queue is
a mapping from prompt id to its vector and payload, or to ``None`` for a removal. Past
:data:`MAX_PENDING` prompts the vectors are dropped and a full reconciliation with the store is
asked for instead: the store holds them all, and memory stays bounded during a long outage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import Matrix

#: How many prompts may wait before the queue gives way to a full reconciliation.
MAX_PENDING = 20_000

_Change = tuple[Matrix, VectorPayload] | None


class PendingChanges:
    """The latest unpushed change of each prompt, plus the flags of bigger pending work."""

    def __init__(self) -> None:
        self._changes: dict[str, _Change] = {}
        #: The collection must be dropped and created again before anything else.
        self.reset = False
        #: The collection must be reconciled with the whole store.
        self.full_sync = False

    def __len__(self) -> int:
        return len(self._changes)

    def __bool__(self) -> bool:
        return self.reset or self.full_sync or bool(self._changes)

    def add(self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]) -> None:
        """Queue vectors to upsert."""
        if self.full_sync:
            return
        for pid, vector, item in zip(ids, vectors, payloads, strict=True):
            self._changes[pid] = (vector, item)
        self._bound()

    def remove(self, ids: Sequence[str]) -> None:
        """Queue prompts to delete."""
        if self.full_sync:
            return
        for pid in ids:
            self._changes[pid] = None
        self._bound()

    def _bound(self) -> None:
        if len(self._changes) > MAX_PENDING:
            self._changes.clear()
            self.full_sync = True

    def upserts(self, dim: int) -> tuple[list[str], Matrix, list[VectorPayload]]:
        """The queued upserts as ids, a matrix and payloads, row for row."""
        ids = [pid for pid, change in self._changes.items() if change is not None]
        rows = [change for change in self._changes.values() if change is not None]
        matrix = (
            np.stack([vector for vector, _ in rows]).astype(np.float32, copy=False)
            if rows
            else np.zeros((0, dim), dtype=np.float32)
        )
        return ids, matrix, [item for _, item in rows]

    def removals(self) -> list[str]:
        """The queued deletions."""
        return [pid for pid, change in self._changes.items() if change is None]

    def pushed(self) -> None:
        """Forget the queued upserts and deletions: Qdrant has them now."""
        self._changes.clear()

    def clear(self) -> None:
        """Forget every queued change and flag (the collection matches the store)."""
        self._changes.clear()
        self.reset = False
        self.full_sync = False
