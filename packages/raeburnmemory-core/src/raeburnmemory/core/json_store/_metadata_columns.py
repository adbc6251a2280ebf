"""The JSON store's metadata as column arrays, so a metadata filter is a few array operations.

:class:`MetadataColumns` builds :class:`~raeburnmemory.core._where_columns.WhereColumns` over
every record on the first filter, and keeps in step with later writes without building again
each time: a record added (or replaced) since the build is in the *tail*, the records whose
number (``seq``) is above the last one built, and is tested in Python; a row whose record is
gone or was replaced no longer matches its record's number and is left out. When the tail and
the stale rows pass a tenth of the records the columns are built again.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from raeburnmemory.core._where_columns import WhereColumns
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.where import Where

__all__ = ["MetadataColumns"]

# The columns are built again once the tail and stale rows pass this share of the records...
_REBUILD_SHARE = 0.1
# ...and this many (below, testing them one by one costs less than a build).
_REBUILD_FROM = 1000


def _newer(state: GraphState, seq: int) -> Iterator[StoredInteraction]:
    """The records added after number ``seq``, newest first (records are kept in that order)."""
    for record in reversed(state.records.values()):
        if record.seq <= seq:
            return
        yield record


class MetadataColumns:
    """Column arrays of one store state's metadata, built when first needed."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Let the columns go (they are built again when next needed)."""
        self._state: GraphState | None = None
        self._columns: WhereColumns | None = None
        self._ids: list[str] = []
        self._seqs: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._last = 0

    def _build(self, state: GraphState) -> None:
        self.forget()
        records = state.records_with_nodes()
        self._columns = WhereColumns.build([r.prompt.get("metadata") or {} for r in records])
        self._ids = [record.prompt_id for record in records]
        self._seqs = np.fromiter((record.seq for record in records), np.int64, len(records))
        self._state = state
        self._last = state.last_seq

    def _tail(self, state: GraphState) -> list[StoredInteraction] | None:
        """The records added since the build, oldest first, or ``None`` when the columns must
        be built again (another state, or too much changed)."""
        if self._state is not state or self._columns is None:
            return None
        tail = list(_newer(state, self._last))
        stale = len(self._ids) - (len(state) - len(tail))
        if len(tail) + stale > max(_REBUILD_FROM, _REBUILD_SHARE * len(state)):
            return None
        tail.reverse()
        return tail

    def matching(self, state: GraphState, where: Where) -> list[str]:
        """The prompt ids of the records whose metadata passes ``where``, in insertion order."""
        tail = self._tail(state)
        if tail is None:
            self._build(state)
            tail = []
        assert self._columns is not None
        records = state.records
        found: list[str] = []
        for row in np.flatnonzero(self._columns.mask(where)).tolist():
            pid = self._ids[row]
            record = records.get(pid)
            if record is not None and record.seq == self._seqs[row]:
                found.append(pid)
        state.materialize(tail)
        found += [r.prompt_id for r in tail if where.matches(r.prompt.get("metadata") or {})]
        return found
