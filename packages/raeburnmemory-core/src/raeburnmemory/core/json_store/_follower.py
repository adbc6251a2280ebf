"""What one process knows of a JSON store's files, kept in step with the journal.

:class:`JournalFollower` loads the map, the snapshot (or its index) and the journal, applies the
journal's lines (this process's own as it writes them, other writers' as it reads them) and
follows another process's compaction, keeping other writers' changes in
:class:`UnreportedChanges` until ``refresh()`` reports them (their vectors are read then, from the
journal or from the vectors file the compaction wrote). Every method runs under the store's
lock, except :meth:`JournalFollower.changed`, a cheap look at the journal's size, and
:meth:`JournalFollower.follow` where the lock cannot be taken (reading only).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from raeburnmemory.core._collector import collector_paused
from raeburnmemory.core.errors import CorruptStoreError, StoreError, StorePermissionError
from raeburnmemory.core.json_store._files import StoreFiles
from raeburnmemory.core.json_store._journal import JournalFile
from raeburnmemory.core.json_store._map_file import MapFile, read_map
from raeburnmemory.core.json_store._recovery import finish_interrupted
from raeburnmemory.core.json_store._snapshot import SnapshotFile, read_snapshot
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.json_store._vector_rows import VectorRows
from raeburnmemory.core.model import EncoderInfo, Link
from raeburnmemory.core.store import StoreChanges, StoredVectors

__all__ = ["JournalFollower", "UnreportedChanges"]


class UnreportedChanges:
    """Other writers' changes that ``refresh()`` has not reported yet (ids, in order)."""

    __slots__ = ("added", "removed", "reset")

    def __init__(self) -> None:
        self.added: dict[str, None] = {}
        self.removed: dict[str, None] = {}
        self.reset = False

    def clear(self) -> None:
        """Forget everything (the caller has just read every vector)."""
        self.added.clear()
        self.removed.clear()
        self.reset = False


class JournalFollower:
    """The interactions, vectors and encoder of the store as this process last read them."""

    def __init__(
        self, files: StoreFiles, read_only: Callable[[Callable[[], StoreError]], None]
    ) -> None:
        """``read_only(cause)`` is called when the journal can only be read."""
        self.files = files
        self._read_only = read_only
        self.journal = JournalFile(files.journal)
        self.unreported = UnreportedChanges()
        self.reload_needed = False  # the last load failed: the next look tries again
        self.rows = VectorRows(files)
        self._reset()

    def _reset(self) -> None:
        self.rows.close()
        self.state = GraphState()
        self.rows = VectorRows(self.files)
        self.generation = 0
        self.vectors_epoch = 0
        self.encoder: EncoderInfo | None = None

    # -- loading -----------------------------------------------------------------------------------

    def load(
        self,
        *,
        keep_unreported: bool = False,
        foreign: bool = False,
        mapping: MapFile | None = None,
    ) -> None:
        """Read the map, the snapshot (or its index), the vectors header and the journal.

        ``keep_unreported`` keeps what refresh() has still to report; ``foreign`` reports the
        journal's lines to it; ``mapping`` is the map when the caller has just written it.
        """
        files = self.files
        self.journal.close()
        self._reset()
        if not keep_unreported:
            self.unreported = UnreportedChanges()
        self.reload_needed = True  # until this load succeeds
        if mapping is None:
            mapping = read_map(files.map)
        with collector_paused():
            encoder = self._fill_state(mapping)
        try:
            self.encoder = None if encoder is None else EncoderInfo(encoder["name"], encoder["dim"])
        except (KeyError, TypeError):
            raise CorruptStoreError(files.graph, "malformed encoder record") from None
        self.generation = mapping.generation
        self.vectors_epoch = mapping.epoch
        keep_file_open = keep_unreported and bool(self.unreported.added)
        self.rows.install(mapping, self.state.records, keep_file_open=keep_file_open)
        if not self.journal.open(self.generation):
            self._read_only(functools.partial(StorePermissionError, files.journal, "write"))
        if not self.journal.folded:
            self.read_tail(foreign=foreign)
        self.reload_needed = False

    def _fill_state(self, mapping: MapFile) -> Any:
        """Fill the state from the snapshot's index, or parse the snapshot when the map has none.

        Returns the encoder record.
        """
        files = self.files
        index = mapping.snapshot_index
        if index is not None and mapping.crc is not None and mapping.size is not None:
            source = SnapshotFile(files.graph, mapping.crc, mapping.size)  # checks the version
            if source.layout_known:
                try:
                    self.state.fill_from_snapshot_index(index, source)
                except (KeyError, TypeError, ValueError, IndexError) as exc:
                    reason = f"malformed snapshot index ({exc!r})"
                    raise CorruptStoreError(files.map, reason) from None
                return mapping.encoder
            source.close()  # not the layout this store writes: parse it, attributes and all
        attrs, self.state = read_snapshot(files.graph, mapping.crc, mapping.size)
        generation = attrs.get("generation")
        if generation != mapping.generation:
            raise CorruptStoreError(
                files.map,
                f"generation {mapping.generation} does not match the snapshot's {generation}",
            )
        return attrs.get("encoder")

    # -- applying lines ----------------------------------------------------------------------------

    def read_tail(self, *, foreign: bool) -> None:
        """Apply the complete lines past the last one read."""
        for line in self.journal.new_lines():
            self.apply(line.fields, line.offset, line.length, foreign=foreign, number=line.number)

    def apply(
        self, fields: dict[str, Any], offset: int, length: int, *, foreign: bool, number: int
    ) -> None:
        """Apply one journal line (``foreign``: another writer's, reported to refresh())."""
        op = fields["op"]
        if op == "add":
            try:
                entries = [StoredInteraction.checked(data) for data in fields["items"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise CorruptStoreError(
                    self.files.journal, f"line {number}: malformed interaction ({exc!r})"
                ) from None
            dim = fields.get("dim") if fields.get("vectors") is not None else None
            replaced = [pid for pid in fields.get("replace", ()) if pid in self.state]
            kept = self.state.links_of(replaced)
            if foreign:
                for pid in replaced:
                    self.unreported.added.pop(pid, None)
                    self.unreported.removed[pid] = None
            self.add_entries(entries, dim, offset, length, foreign=foreign)
            for link in kept:
                if link.source in self.state and link.target in self.state:
                    self.state.add_link(link)
        elif op == "delete":
            locations = self.rows.locations
            unreported = self.unreported
            for pid in fields["ids"]:
                if self.state.remove(pid):
                    locations.pop(pid, None)
                    if foreign:
                        unreported.added.pop(pid, None)
                        unreported.removed[pid] = None
        elif op == "link":
            link = Link(fields["source"], fields["target"], fields["relation"])
            if link.source in self.state and link.target in self.state:
                self.state.add_link(link)
        else:
            self.encoder = EncoderInfo(fields["name"], fields["dim"])

    def add_entries(
        self,
        entries: list[StoredInteraction],
        dim: int | None,
        offset: int,
        length: int,
        *,
        foreign: bool,
    ) -> None:
        """Insert the interactions of one ``add`` line (with vectors when ``dim`` is given)."""
        if dim is not None:
            self.rows.dim = dim
        locations = self.rows.locations
        added = self.unreported.added
        state = self.state
        for row, entry in enumerate(entries):
            pid = entry.prompt_id
            locations.pop(pid, None)
            state.add(entry)
            if dim is not None:
                locations[pid] = (offset, length, row)
            if foreign and dim is not None:
                added[pid] = None
            elif pid in added:
                del added[pid]

    # -- following other writers -------------------------------------------------------------------

    def changed(self) -> bool:
        """Whether other writers may have changed the store since the last look."""
        return self.reload_needed or self.journal.changed()

    def follow(self, *, locked: bool = True) -> None:
        """Read what other writers appended, following a compaction.

        ``locked``: the caller holds the store's lock, so a compaction a killed writer left
        between its renames is finished first (without it nothing is renamed or removed).
        """
        if locked:
            finish_interrupted(self.files)
        if self.reload_needed:
            self.reload()
            return
        journal = self.journal
        stat = journal.stat()
        if stat is None:
            self.reload()
            return
        if (stat.st_dev, stat.st_ino) != journal.identity:
            self._follow_compaction()
            return
        if stat.st_size < journal.end:
            self.reload()
            return
        if stat.st_size > journal.end and not journal.folded:
            self.read_tail(foreign=True)
        journal.size_seen = stat.st_size

    def reload(self) -> None:
        """Read everything again; the next refresh() says ``reset``."""
        self.load()
        self.unreported.reset = True

    def _follow_compaction(self) -> None:
        """Another process folded the journal: load the new files, and say ``reset`` only when
        the vectors are not the ones this object had."""
        if not self.journal.folded:
            self.read_tail(foreign=True)  # the old journal's last lines, still readable here
        try:
            mapping = read_map(self.files.map)
        except CorruptStoreError:
            self.reload()
            return
        locations = self.rows.locations
        same = (
            mapping.generation == self.generation + 1
            and mapping.epoch == self.vectors_epoch
            and not self.journal.folded
            and len(mapping.ids) == len(locations)
            and all(pid in locations for pid in mapping.ids)
        )
        if not same:
            self.reload()
            return
        self.load(keep_unreported=True, foreign=True)

    def forget_unreported(self) -> None:
        """The caller has just read every vector: nothing is left to report."""
        self.unreported.clear()
        self.rows.close()

    def report(self) -> StoreChanges:
        """Other writers' changes not reported yet, with their vectors; then forget them."""
        unreported = self.unreported
        if unreported.reset:
            unreported.clear()
            return StoreChanges(reset=True)
        locations = self.rows.locations
        removed = list(unreported.removed)
        added_ids = [pid for pid in unreported.added if pid in locations]
        unreported.removed.clear()
        if not added_ids:
            return StoreChanges(removed=removed)
        unreported.added.clear()
        matrix = self.rows.read(self.journal, added_ids)
        self.rows.close()  # every row is reported: the vectors file need not stay open
        payloads = self.state.payloads(added_ids)
        added = StoredVectors(ids=added_ids, vectors=matrix, payloads=payloads)
        return StoreChanges(added=added, removed=removed)

    def close(self) -> None:
        """Close the journal and let the snapshot file go."""
        self.journal.close()
        self.rows.close()
        self.state = GraphState()
