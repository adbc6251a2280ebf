"""The default store: a node-link JSON snapshot, an append-only journal and a vectors file.

Files beside ``graph.json`` (the snapshot)::

    graph.json.journal        every write since the snapshot, one JSON line each
    graph.json.faiss          prompt vectors as a FAISS flat inner-product index (with faiss),
    graph.json.vectors.npy    ... or as a numpy matrix (without it); either opens either way
    graph.json.map.json       the prompt id of each vectors row, the generation, a checksum
    graph.json.lock           writers take turns on this lock

A write takes the lock, reads what other processes appended since its last look, checks the
request, appends one line and flushes it (``fsync=True`` also forces it to disk) before it
returns. :meth:`JsonStore.compact` folds the journal into a new snapshot written beside the old
one and renamed into place in an order that a crash at any point can finish or undo.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.core._journal import (
    decode_vectors,
    header_line,
    read_header,
    read_line,
    scan_lines,
)
from raeburnmemory.core._json_files import (
    OPTION_NAMES,
    StoreFiles,
    fsync_dir,
    no_gc,
    parse_options,
    recover,
)
from raeburnmemory.core._json_state import GraphState, Record
from raeburnmemory.core._keyword_index import KeywordIndex
from raeburnmemory.core._locking import StoreLock
from raeburnmemory.core._map_file import MapFile, read_map, write_map
from raeburnmemory.core._os_errors import file_error
from raeburnmemory.core._snapshot import (
    FORMAT,
    VERSION,
    SnapshotFile,
    read_snapshot,
    write_snapshot,
)
from raeburnmemory.core._vector_files import (
    VectorFileWriter,
    preferred_format,
    read_vector_file,
    read_vector_info,
)
from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    CorruptStoreError,
    EmbeddingMismatchError,
    InvalidInteractionError,
    NotAStoreError,
    NotFoundError,
    PartialWriteError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from raeburnmemory.core.limits import check_records
from raeburnmemory.core.model import Agent, EncoderInfo, Interaction, Link, SearchFilter
from raeburnmemory.core.paths import resolve_db_path
from raeburnmemory.core.store import Matrix, ScoredIds, Store, StoreChanges, StoredVectors
from raeburnmemory.core.store_files import StoreFileKind, identify_store_file, not_a_store_reason

__all__ = ["JsonStore"]

#: The journal is folded into the snapshot on close past this size (or the snapshot's).
COMPACT_JOURNAL_BYTES = 64 << 20
#: Interactions per ``add`` line of the journal (a larger batch takes several lines).
JOURNAL_LINE_ITEMS = 2048
#: Vectors of other writers' additions held across a compaction until refresh() reports them.
PENDING_VECTORS_KEPT = 20_000
_SNAPSHOT_ROW = -1  # vector location "row of the snapshot's vectors file"


class JsonStore(Store):
    """The default store: JSON files on local disk, shared safely by several processes.

    Options: ``fsync`` (default ``False``: a write survives the process being killed; ``True``:
    it also survives a power loss) and ``lock_timeout`` (seconds to wait for another writer,
    default 10, then ``StoreLockedError``).
    """

    name = "json"
    option_names = OPTION_NAMES
    default_vector_backend = None
    supports_keyword_search = True

    def __init__(self, path: Path, *, fsync: bool = False, lock_timeout: float = 10.0) -> None:
        """Use :meth:`open`; this only sets the object up."""
        self.location = str(path)
        self._files = StoreFiles(path)
        self._fsync = fsync
        self._lock_timeout = lock_timeout
        self._flock = StoreLock(self._files.lock, lock_timeout)
        self._mutex = threading.RLock()
        self._closed = False
        self._writable = True
        self._why_read_only: Callable[[], StoreError] | None = None
        self._wrote = False
        self._fd = -1
        self._needs_reload = False
        self._keywords: KeywordIndex | None = None
        self._reset_state()

    def _reset_state(self) -> None:
        self._state = GraphState()
        self._gen = 0
        self._epoch = 0
        self._encoder: EncoderInfo | None = None
        self._dim: int | None = None
        self._vfmt: str | None = None
        self._vcrc: int | None = None  # the vectors file's CRC-32 (None: an older map)
        # prompt id -> (journal offset or _SNAPSHOT_ROW, line length, row)
        self._vec: dict[str, tuple[int, int, int]] = {}
        self._j_id: tuple[int, int] = (0, 0)
        self._j_off = 0
        self._j_lines = 0
        self._j_seen = -1
        self._stale_journal = False
        # other writers' additions not yet reported: their vector once read from an old journal
        self._pending_added: dict[str, Matrix | None] = {}
        self._pending_removed: dict[str, None] = {}
        self._pending_reset = False

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        location: str | None,
        *,
        create: bool = True,
        vector_backend: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> JsonStore:
        """Open (or create) the store whose snapshot is ``location`` (default: ``graph.json``).

        With ``create=False`` a store that does not exist raises ``StoreNotFoundError``.
        """
        fsync, timeout = parse_options(options)
        path = resolve_db_path(location)
        if path.is_dir():
            raise ConfigurationError(f"{path} is a directory; give the path of a graph.json file")
        _check_is_json_store(path)
        store = cls(path, fsync=fsync, lock_timeout=timeout)
        try:
            with _permission_errors("read"):
                store._open(create)
        except BaseException:
            store.close()
            raise
        return store

    def _open(self, create: bool) -> None:
        files = self._files
        if not files.graph.exists():
            if not create:
                raise StoreNotFoundError(f"no raeburnmemory store at {files.graph}")
            try:
                files.dir.mkdir(parents=True, exist_ok=True)
            except PermissionError:
                raise StorePermissionError(files.dir, "create") from None
            except OSError as exc:
                raise StoreError(f"{files.dir}: cannot create the directory ({exc})") from None
            with self._locked(write=True):
                if not files.graph.exists():
                    self._create_files()
        with self._locked(write=False) as locked:
            if locked:
                recover(self._files)
            self._load()

    def _create_files(self) -> None:
        self._gen = 0
        self._commit_snapshot(None, None)

    @contextlib.contextmanager
    def _locked(self, *, write: bool) -> Iterator[bool]:
        """Hold the store's file lock; a read goes on without it where it cannot be taken."""
        try:
            self._flock.acquire()
        except OSError as exc:
            cause = functools.partial(_lock_error, self._files.lock, exc)
            if write:
                raise cause() from None
            self._read_only(cause)
            yield False
            return
        try:
            yield True
        finally:
            self._flock.release()

    # -- loading -----------------------------------------------------------------------------------

    def _load(self, *, keep_pending: bool = False, foreign: bool = False) -> None:
        """Read the map, the snapshot (or its index), the vectors header and the journal.

        Under the lock. ``keep_pending`` keeps what refresh() has still to report; ``foreign``
        reports the journal's lines to it.
        """
        files = self._files
        pending = (self._pending_added, self._pending_removed, self._pending_reset)
        self._close_fd()
        self._reset_state()
        if keep_pending:
            self._pending_added, self._pending_removed, self._pending_reset = pending
        self._needs_reload = True  # until this load succeeds: a failed one is tried again
        mapping = read_map(files.map)
        with no_gc():
            encoder = self._load_graph(mapping)
        try:
            self._encoder = (
                None if encoder is None else EncoderInfo(encoder["name"], encoder["dim"])
            )
        except (KeyError, TypeError):
            raise CorruptStoreError(files.graph, "malformed encoder record") from None
        self._gen = mapping.generation
        self._epoch = mapping.epoch
        self._dim = mapping.dim
        self._install_map(mapping)
        self._open_journal(foreign=foreign)
        self._needs_reload = False

    def _load_graph(self, mapping: MapFile) -> Any:
        """Fill the state from the snapshot's index, or parse the snapshot when the map has none.

        Returns the encoder record.
        """
        files = self._files
        if mapping.index is not None and mapping.crc is not None and mapping.size is not None:
            source = SnapshotFile(files.graph, mapping.crc, mapping.size)
            try:
                self._state.load_index(mapping.index, source)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise CorruptStoreError(files.map, f"malformed snapshot index ({exc!r})") from None
            return mapping.encoder
        attrs, self._state = read_snapshot(files.graph, mapping.crc, mapping.size)
        generation = attrs.get("generation")
        if generation != mapping.generation:
            raise CorruptStoreError(
                files.map,
                f"generation {mapping.generation} does not match the snapshot's {generation}",
            )
        return attrs.get("encoder")

    def _install_map(self, mapping: MapFile) -> None:
        """Take the snapshot's vector rows from the map, checked against the vectors file."""
        files = self._files
        self._vfmt = mapping.fmt
        self._vcrc = mapping.vectors_crc
        self._vec = {}
        if mapping.fmt is None:
            if mapping.ids:
                raise CorruptStoreError(files.map, "lists vectors but names no vectors file")
            return
        info = read_vector_info(files.vectors(mapping.fmt), mapping.fmt)
        if info.rows != len(mapping.ids) or (info.rows and info.dim != mapping.dim):
            raise CorruptStoreError(
                info.path,
                f"holds {info.rows} vectors of {info.dim} dimensions but {files.map.name} lists "
                f"{len(mapping.ids)} of {mapping.dim}",
            )
        records = self._state.records
        missing = [pid for pid in mapping.ids if pid not in records]
        if missing:
            raise CorruptStoreError(
                files.map, f"lists prompts the snapshot does not hold: {missing[:3]!r}"
            )
        self._vec = {pid: (_SNAPSHOT_ROW, 0, row) for row, pid in enumerate(mapping.ids)}

    def _open_journal(self, *, foreign: bool = False) -> None:
        """Open the journal and apply its lines (``foreign``: report them to refresh())."""
        files = self._files
        try:
            self._fd = os.open(files.journal, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            raise CorruptStoreError(files.journal, "the journal is missing") from None
        except PermissionError:
            self._fd = os.open(files.journal, os.O_RDONLY)
            self._read_only(functools.partial(StorePermissionError, files.journal, "write"))
        stat = os.fstat(self._fd)
        self._j_id = (stat.st_dev, stat.st_ino)
        generation, self._j_off = read_header(files.journal, self._fd)
        self._j_lines = 1
        if generation > self._gen:
            raise CorruptStoreError(
                files.journal,
                f"generation {generation} is newer than the snapshot's {self._gen}",
            )
        self._stale_journal = generation < self._gen  # already folded into the snapshot
        self._j_seen = stat.st_size
        if not self._stale_journal:
            self._read_tail(foreign=foreign)

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # -- following the journal --------------------------------------------------------------------

    def _read_tail(self, *, foreign: bool) -> None:
        """Apply the complete lines past the last one read."""
        for line in scan_lines(self._files.journal, self._fd, self._j_off, self._j_lines):
            self._apply(line.record, line.offset, line.length, foreign=foreign, number=line.number)
            self._j_off = line.offset + line.length
            self._j_lines = line.number

    def _apply(
        self, record: dict[str, Any], offset: int, length: int, *, foreign: bool, number: int
    ) -> None:
        op = record["op"]
        if op == "add":
            try:
                records = [Record.checked(data) for data in record["items"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise CorruptStoreError(
                    self._files.journal, f"line {number}: malformed interaction ({exc!r})"
                ) from None
            dim = record.get("dim") if record.get("vectors") is not None else None
            self._add_records(records, dim, offset, length, foreign=foreign)
        elif op == "delete":
            for pid in record["ids"]:
                if self._state.remove(pid):
                    self._vec.pop(pid, None)
                    if foreign:
                        self._pending_added.pop(pid, None)
                        self._pending_removed[pid] = None
        elif op == "link":
            link = Link(record["source"], record["target"], record["relation"])
            if link.source in self._state and link.target in self._state:
                self._state.add_link(link)
        else:
            self._encoder = EncoderInfo(record["name"], record["dim"])

    def _add_records(
        self, records: list[Record], dim: int | None, offset: int, length: int, *, foreign: bool
    ) -> None:
        """Insert the records of one ``add`` line (with vectors when ``dim`` is given)."""
        if dim is not None:
            self._dim = dim
        for row, item in enumerate(records):
            pid = item.prompt_id
            self._vec.pop(pid, None)
            self._state.add(item)
            if dim is not None:
                self._vec[pid] = (offset, length, row)
            if foreign and dim is not None:
                self._pending_added[pid] = None
            elif pid in self._pending_added:
                del self._pending_added[pid]

    def _journal_changed(self) -> bool:
        if self._needs_reload:
            return True
        try:
            stat = os.stat(self._files.journal)
        except FileNotFoundError:
            return True
        return (stat.st_dev, stat.st_ino) != self._j_id or stat.st_size != self._j_seen

    def _catch_up(self) -> None:
        """Read what other writers appended (under the lock), following a compaction."""
        if self._needs_reload:
            self._reload()
            return
        try:
            stat = os.stat(self._files.journal)
        except FileNotFoundError:
            self._reload()
            return
        if (stat.st_dev, stat.st_ino) != self._j_id:
            self._follow_compaction()
            return
        if stat.st_size < self._j_off:
            self._reload()
            return
        if stat.st_size > self._j_off and not self._stale_journal:
            self._read_tail(foreign=True)
        self._j_seen = stat.st_size

    def _reload(self) -> None:
        """Read everything again; the next refresh() says ``reset``."""
        self._load()
        self._pending_reset = True

    def _follow_compaction(self) -> None:
        """Another process folded the journal: load the new files, and say ``reset`` only when
        the vectors are not the ones this object had."""
        if not self._stale_journal:
            self._read_tail(foreign=True)  # the old journal's last lines, still readable here
        try:
            mapping = read_map(self._files.map)
        except CorruptStoreError:
            self._reload()
            return
        same = (
            mapping.generation == self._gen + 1
            and mapping.epoch == self._epoch
            and not self._stale_journal
            and len(mapping.ids) == len(self._vec)
            and all(pid in self._vec for pid in mapping.ids)
        )
        if not same:
            self._reload()
            return
        self._hold_pending_vectors()
        self._load(keep_pending=True, foreign=True)

    def _sync(self) -> None:
        """Before a read: catch up if the journal changed since the last look."""
        if self._journal_changed():
            with self._locked(write=False):
                self._catch_up()

    # -- writing ---------------------------------------------------------------------------------

    def _read_only(self, cause: Callable[[], StoreError]) -> None:
        """Go on reading only; ``cause()`` makes the error a write then raises."""
        self._writable = False
        if self._why_read_only is None:
            self._why_read_only = cause

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store at {self.location} is closed")

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        with self._mutex:
            self._check_open()
            if not self._writable:
                if self._why_read_only is not None:
                    raise self._why_read_only()
                raise StoreError(f"{self.location}: the store is read-only here")
            with _permission_errors("write"), self._locked(write=True):
                self._catch_up()
                yield

    def _append(self, *lines: bytes) -> list[tuple[int, int]]:
        """Append whole lines durably, all or nothing; returns the offset and length of each.

        When a write fails the journal is cut back to where it was, so none of the lines is
        stored. Should even that fail, :class:`_TornAppendError` says how many lines were complete.
        """
        if self._stale_journal:
            self._replace_journal()
        fd = self._fd
        if os.fstat(fd).st_size != self._j_off:
            os.ftruncate(fd, self._j_off)  # a torn line a crash left: it was never acknowledged
        start = offset = self._j_off
        placed: list[tuple[int, int]] = []
        try:
            for data in lines:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                placed.append((offset, len(data)))
                offset += len(data)
            if self._fsync:
                os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, start)
            except OSError:
                raise _TornAppendError(self._files.journal, len(placed), exc) from None
            raise file_error(self._files.journal, "write", exc, "nothing was written") from None
        self._j_off = offset
        self._j_seen = self._j_off
        self._j_lines += len(lines)
        self._wrote = True
        return placed

    def _write(self, record: dict[str, Any]) -> None:
        """Append a record and apply it to this object's state."""
        [(offset, length)] = self._append((json.dumps(record) + "\n").encode())
        self._apply(record, offset, length, foreign=False, number=self._j_lines)

    def _replace_journal(self) -> None:
        files = self._files
        temp = files.temp(files.journal)
        with temp.open("wb") as fh:
            fh.write(header_line(self._gen))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, files.journal)
        fsync_dir(files.dir)
        self._close_fd()
        self._open_journal()

    def set_encoder_info(self, info: EncoderInfo) -> None:
        """Record the encoder of the vectors (``EmbeddingMismatchError`` once vectors exist)."""
        with self._writing():
            if self._encoder == info:
                return
            if self._vec and (self._encoder is not None or self._dim != info.dim):
                stored = self._encoder or EncoderInfo("unknown", self._dim or 0)
                raise EmbeddingMismatchError(stored.name, stored.dim, info.name, info.dim)
            self._write({"op": "encoder", "name": info.name, "dim": info.dim})

    def _new_items(self, items: Sequence[Interaction]) -> list[int]:
        """Indexes of the interactions not stored yet; ``ConflictError`` on a clash."""
        fresh: list[int] = []
        batch: dict[str, Interaction] = {}
        owners: dict[str, str] = {}
        records = self._state.records
        stored_owners = self._state.responses
        for index, item in enumerate(items):
            pid = item.prompt_id
            known = batch.get(pid)
            if known is None and pid in records:
                known = records[pid].interaction()
            if known is not None:
                if not known.same_content(item):
                    raise ConflictError(
                        f"prompt {pid!r} is stored with different content; nothing was written"
                    )
                continue
            owner = owners.get(item.response_id) or stored_owners.get(item.response_id)
            if owner is not None and owner != pid:
                raise ConflictError(
                    f"response {item.response_id!r} belongs to prompt {owner!r}, not {pid!r}; "
                    "nothing was written"
                )
            batch[pid] = item
            owners[item.response_id] = pid
            fresh.append(index)
        return fresh

    def _vector_block(self, vectors: Matrix | None, count: int) -> Matrix | None:
        if vectors is None:
            return None
        block = np.asarray(vectors, dtype=np.float32)
        if block.ndim != 2 or block.shape[0] != count:
            raise InvalidInteractionError(
                f"expected {count} vectors (one per interaction), got an array of shape "
                f"{block.shape}"
            )
        dim = self._encoder.dim if self._encoder is not None else self._dim
        if dim is not None and block.shape[1] != dim:
            raise InvalidInteractionError(
                f"the vectors have {block.shape[1]} dimensions but the store's have {dim}"
            )
        return block

    def add(self, interactions: Sequence[Interaction], vectors: Matrix | None) -> list[str]:
        """Durably record interactions and their vectors, all or nothing; same content is skipped.

        Every item is checked first; the new ones are then appended as lines of at most
        ``JOURNAL_LINE_ITEMS`` interactions, all of them or none.
        """
        items = list(interactions)
        block = self._vector_block(vectors, len(items))
        check_records(items, block)
        with self._writing():
            fresh = self._new_items(items)
            if not fresh:
                return []
            chosen = [items[i] for i in fresh]
            rows = None
            if block is not None:
                rows = block if len(fresh) == len(items) else block[fresh]
            lines = [
                _add_line(chosen[start : start + JOURNAL_LINE_ITEMS], rows, start)
                for start in range(0, len(chosen), JOURNAL_LINE_ITEMS)
            ]
            try:
                placed = self._append(*(line.data for line in lines))
            except _TornAppendError as torn:
                done = [item.prompt_id for line in lines[: torn.complete] for item in line.items]
                self._needs_reload = True  # the complete lines are read back as stored
                raise PartialWriteError(torn.path, done, f"cannot write ({torn.cause})") from None
            dim = None if rows is None else int(rows.shape[1])
            for line, (offset, length) in zip(lines, placed, strict=True):
                records = [Record.from_dict(data) for data in line.dicts]
                self._add_records(records, dim, offset, length, foreign=False)
            return [item.prompt_id for item in chosen]

    def link(self, link: Link) -> None:
        """Durably record a caller-made edge (``NotFoundError`` if a prompt is missing)."""
        with self._writing():
            for pid in (link.source, link.target):
                if pid not in self._state:
                    raise NotFoundError(f"no prompt with id {pid!r}")
            if (link.source, link.target, link.relation) in self._state.links:
                return
            self._write(
                {
                    "op": "link",
                    "source": link.source,
                    "target": link.target,
                    "relation": link.relation,
                }
            )

    def delete(self, prompt_ids: Sequence[str]) -> list[str]:
        """Durably remove interactions with their vectors and links; returns the ids removed."""
        with self._writing():
            ids = [pid for pid in dict.fromkeys(prompt_ids) if pid in self._state]
            if ids:
                self._write({"op": "delete", "ids": ids})
            return ids

    def replace_vectors(
        self, batches: Iterable[tuple[list[str], Matrix]], info: EncoderInfo
    ) -> None:
        """Swap every prompt vector for ones made by ``info``: a new snapshot, all or nothing.

        Prompts the batches do not cover are left without a vector. Other writers wait for the
        lock while the batches are consumed.
        """
        with self._writing():
            files = self._files
            fmt = preferred_format()
            writer = VectorFileWriter(files.temp(files.vectors(fmt)), fmt, info.dim)
            rows: dict[str, int] = {}
            try:
                for ids, matrix in batches:
                    self._write_batch(writer, rows, list(ids), matrix, info)
                crc = writer.finish()
            except BaseException:
                writer.discard()
                raise
            before = (self._encoder, self._dim, self._epoch)
            self._encoder, self._dim, self._epoch = info, info.dim, self._epoch + 1
            try:
                self._commit_snapshot((list(rows), fmt if rows else None, crc), writer.path)
            except BaseException:
                self._encoder, self._dim, self._epoch = before
                raise
            self._pending_added.clear()  # every vector changed: readers start over
            self._pending_reset = True

    def _write_batch(
        self,
        writer: VectorFileWriter,
        rows: dict[str, int],
        ids: list[str],
        matrix: Matrix,
        info: EncoderInfo,
    ) -> None:
        block = np.asarray(matrix, dtype=np.float32)
        if block.shape != (len(ids), info.dim):
            raise InvalidInteractionError(
                f"expected {len(ids)} vectors of {info.dim} dimensions, got shape {block.shape}"
            )
        take: list[int] = []
        for index, pid in enumerate(ids):
            if pid not in self._state:
                continue
            if pid in rows:
                writer.set_row(rows[pid], block[index])
            else:
                rows[pid] = len(rows)
                take.append(index)
        if take:
            writer.append(block[take])

    # -- compaction ------------------------------------------------------------------------------

    def compact(self) -> None:
        """Fold the journal into a new snapshot, vectors file and map, written atomically."""
        with self._writing():
            self._compact_locked()

    def _compact_locked(self) -> None:
        files = self._files
        stored = self._all_vectors()
        fmt = preferred_format() if len(stored) else None
        temp: Path | None = None
        crc = None
        if fmt is not None:
            temp = files.temp(files.vectors(fmt))
            try:
                writer = VectorFileWriter(temp, fmt, stored.vectors.shape[1])
            except OSError as exc:
                temp.unlink(missing_ok=True)
                raise file_error(temp, "write", exc) from None
            try:
                writer.append(stored.vectors)
                crc = writer.finish()
            except BaseException as exc:
                writer.discard()
                if isinstance(exc, OSError):
                    raise file_error(temp, "write", exc) from None
                raise
        ids = stored.ids
        del stored
        self._commit_snapshot((ids, fmt, crc), temp)

    def _commit_snapshot(
        self,
        vectors: tuple[list[str], str | None, int | None] | None,
        vectors_temp: Path | None,
    ) -> None:
        """Write snapshot, map and journal of the next generation and rename them into place.

        ``vectors`` is the (ids, format, CRC-32) of the finished vectors file at ``vectors_temp``.
        """
        files = self._files
        ids, fmt, vectors_crc = vectors if vectors is not None else ([], None, None)
        generation = self._gen + 1
        dim = self._dim if fmt is not None else (self._encoder.dim if self._encoder else None)
        encoder = None
        if self._encoder is not None:
            encoder = {"name": self._encoder.name, "dim": self._encoder.dim}
        attrs = {
            "format": FORMAT,
            "version": VERSION,
            "generation": generation,
            "encoder": encoder,
            "vectors": fmt,
            "dim": dim,
        }
        graph_temp, map_temp, journal_temp = (
            files.temp(p) for p in (files.graph, files.map, files.journal)
        )
        writing = graph_temp
        try:
            crc, size, index = write_snapshot(graph_temp, self._state, attrs)
            writing = map_temp
            content = MapFile(
                generation,
                self._epoch,
                fmt,
                dim,
                ids,
                crc,
                size,
                encoder=encoder,
                index=index,
                vectors_crc=vectors_crc if fmt is not None else None,
            )
            write_map(map_temp, content)
            writing = journal_temp
            with journal_temp.open("wb") as fh:  # written last: all temporary files are ready
                fh.write(header_line(generation))
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException as exc:
            for temp in (vectors_temp, graph_temp, map_temp, journal_temp):
                if temp is not None:
                    temp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise file_error(writing, "write", exc) from None
            raise
        recover(self._files)
        self._files.drop_vectors_except(fmt)
        self._hold_pending_vectors()
        self._load(keep_pending=True)  # the interactions now come from the new snapshot

    def _journal_large(self) -> bool:
        files = self._files
        try:
            journal = os.stat(files.journal).st_size
            snapshot = os.stat(files.graph).st_size
            if self._vfmt is not None:
                snapshot += os.stat(files.vectors(self._vfmt)).st_size
        except OSError:
            return False
        has_records = journal > len(header_line(self._gen))
        return has_records and (journal > COMPACT_JOURNAL_BYTES or journal > snapshot)

    # -- reads -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[GraphState]:
        with self._mutex, _permission_errors("read"):
            self._check_open()
            self._sync()
            yield self._state

    def encoder_info(self) -> EncoderInfo | None:
        """The encoder the stored vectors were made with, or ``None``."""
        with self._reading():
            return self._encoder

    def get(self, prompt_id: str) -> Interaction | None:
        """The interaction of a prompt, or ``None``."""
        with self._reading() as state:
            record = state.records.get(prompt_id)
            return None if record is None else record.interaction()

    def get_many(self, prompt_ids: Sequence[str]) -> list[Interaction]:
        """The interactions of the prompts that exist, in the order asked."""
        with self._reading() as state:
            found = (state.records.get(pid) for pid in prompt_ids)
            return [record.interaction() for record in found if record is not None]

    def session(self, session_id: str) -> list[Interaction]:
        """A session's interactions by timestamp, then insertion."""
        with self._reading() as state:
            return [record.interaction() for record in state.session(session_id)]

    def sessions(self) -> list[str]:
        """Every session id, in order of first appearance."""
        with self._reading() as state:
            return state.sessions()

    def agents(self) -> list[Agent]:
        """Every agent, with its latest name and attributes."""
        with self._reading() as state:
            return state.agents()

    def links(self) -> list[Link]:
        """Every caller-made link between prompts."""
        with self._reading() as state:
            return state.link_list()

    def iter_interactions(self) -> Iterator[Interaction]:
        """Every interaction, in insertion order (as stored when the iteration starts)."""
        with self._reading() as state:
            records = state.iter_full()
        return (record.interaction() for record in records)

    def count(self) -> int:
        """How many interactions are stored."""
        with self._reading() as state:
            return len(state)

    def stats(self) -> dict[str, int]:
        """Counts of interactions, sessions, agents, links and vectors."""
        with self._reading() as state:
            return {
                "interactions": len(state),
                "sessions": len(state.by_session),
                "agents": len(state.by_agent),
                "links": len(state.links),
                "vectors": len(self._vec),
            }

    # -- keyword search --------------------------------------------------------------------------

    def keyword_search(self, text: str, k: int, flt: SearchFilter) -> ScoredIds:
        """Prompts whose prompt or response text best matches ``text``, by BM25 (bm25s).

        The index is built in memory on the first keyword search and again after prompts were
        added (by this process or another); deleted prompts drop out of it at once.
        """
        with self._reading() as state:
            records = state.records
            last = state.last_seq  # deletes leave it alone: they are filtered out below
            index = self._keywords
            if index is None or index.version != (state, last):
                index = self._keywords = None  # let the old one go before building anew
                index = KeywordIndex(
                    (state, last),
                    (
                        (record.prompt_id, record.prompt["text"], record.response["text"])
                        for record in state.iter_full()
                    ),
                )
                self._keywords = index
            passes = None
            if not flt.is_empty:
                passes = lambda pid: flt.matches(records[pid].payload())  # noqa: E731
            return index.search(text, k, records, passes)

    # -- vectors ---------------------------------------------------------------------------------

    def catching_up_may_wait(self) -> bool:
        """True when another thread is using the store or other writers' changes are unread.

        Reading those takes the writers' lock, which a writer may hold (a compaction, a
        write forced to disk); otherwise catching up only looks at this process's memory.
        """
        if not self._mutex.acquire(blocking=False):
            return True
        try:
            return self._closed or self._journal_changed()
        finally:
            self._mutex.release()

    def own_files(self) -> list[Path]:
        """The snapshot, journal, map, both vectors files, the lock and their temporary names."""
        return self._files.every()

    def derived_file(self, suffix: str) -> Path | None:
        """``<store file><suffix>``, beside the store's own files."""
        return Path(f"{self._files.graph}{suffix}")

    def load_vectors(self) -> StoredVectors:
        """Every stored vector with its id and payload; the next refresh() reports later changes."""
        with self._mutex, _permission_errors("read"):
            self._check_open()
            with self._locked(write=False):
                self._catch_up()
                stored = self._all_vectors()
            self._pending_added.clear()
            self._pending_removed.clear()
            self._pending_reset = False
            return stored

    def _all_vectors(self) -> StoredVectors:
        """Every live vector: the snapshot's rows first, then the journal's (under the lock)."""
        ids = list(self._vec)
        if not ids:
            return StoredVectors()
        locations = list(self._vec.values())
        dim = int(self._dim or 0)
        snap_rows = [loc[2] for loc in locations if loc[0] == _SNAPSHOT_ROW]
        matrix: Matrix
        if snap_rows:
            assert self._vfmt is not None
            info = read_vector_info(self._files.vectors(self._vfmt), self._vfmt)
            if len(snap_rows) == len(ids) == info.rows:
                # unchanged since the snapshot
                matrix = read_vector_file(info, mapped=True, crc=self._vcrc)
            else:
                # one buffer: the file's rows, packed in place, then the journal's after them
                buffer = np.empty((max(info.rows, len(ids)), dim), dtype=np.float32)
                read_vector_file(info, into=buffer[: info.rows], crc=self._vcrc)
                _pack_rows(buffer, snap_rows)
                matrix = buffer[: len(ids)]
        else:
            matrix = np.empty((len(ids), dim), dtype=np.float32)
        self._fill_from_journal(matrix, locations, len(snap_rows))
        records = self._state.records
        with no_gc():
            payloads = [records[pid].payload() for pid in ids]
        return StoredVectors(ids=ids, vectors=matrix, payloads=payloads)

    def _fill_from_journal(
        self,
        matrix: Matrix,
        locations: list[tuple[int, int, int]],
        start: int,
        positions: list[int] | None = None,
    ) -> None:
        """Decode the journal rows at ``locations[start:]`` into ``matrix`` (at ``positions``)."""
        by_line: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for index in range(start, len(locations)):
            offset, length, row = locations[index]
            target = index if positions is None else positions[index]
            by_line.setdefault((offset, length), []).append((target, row))
        for (offset, length), places in by_line.items():
            block = decode_vectors(read_line(self._fd, offset, length))
            matrix[[p for p, _ in places]] = block[[r for _, r in places]]

    def _hold_pending_vectors(self) -> None:
        """Before the journal is replaced: read the vectors refresh() has still to report."""
        waiting = [p for p, row in self._pending_added.items() if row is None and p in self._vec]
        if len(waiting) > PENDING_VECTORS_KEPT:
            self._pending_reset = True
            return
        if waiting:
            matrix = np.empty((len(waiting), int(self._dim or 0)), dtype=np.float32)
            self._fill_from_journal(matrix, [self._vec[pid] for pid in waiting], 0)
            for index, pid in enumerate(waiting):
                self._pending_added[pid] = matrix[index]

    def refresh(self) -> StoreChanges:
        """Other writers' changes since the last call (or load_vectors), never this object's."""
        with self._mutex, _permission_errors("read"):
            self._check_open()
            self._sync()
            if self._pending_reset:
                self._pending_reset = False
                self._pending_added.clear()
                self._pending_removed.clear()
                return StoreChanges(reset=True)
            removed = list(self._pending_removed)
            added_ids = [pid for pid in self._pending_added if pid in self._vec]
            self._pending_removed.clear()
            if not added_ids:
                return StoreChanges(removed=removed)
            held = {pid: self._pending_added[pid] for pid in added_ids}
            self._pending_added.clear()
            dim = int(self._dim or 0)
            matrix = np.empty((len(added_ids), dim), dtype=np.float32)
            unread = [i for i, pid in enumerate(added_ids) if held[pid] is None]
            self._fill_from_journal(matrix, [self._vec[added_ids[i]] for i in unread], 0, unread)
            for i, pid in enumerate(added_ids):
                row = held[pid]
                if row is not None:
                    matrix[i] = row
            records = self._state.records
            added = StoredVectors(
                ids=added_ids, vectors=matrix, payloads=[records[p].payload() for p in added_ids]
            )
            return StoreChanges(added=added, removed=removed)

    # -- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the journal; fold a large journal into the snapshot first. Harmless twice."""
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            try:
                if self._wrote and self._writable and self._journal_large():
                    with self._locked(write=True):
                        self._catch_up()
                        if self._journal_large():  # another process may have just folded it
                            self._compact_locked()
            except (StoreError, OSError):
                pass  # the journal holds every write; the next close or export compacts
            finally:
                self._close_fd()
                self._flock.close()
                self._keywords = None
                self._state = GraphState()  # lets the snapshot file close

    def __enter__(self) -> JsonStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._close_fd()
            self._flock.close()

    def __repr__(self) -> str:
        return f"JsonStore({self.location!r})"


def _check_is_json_store(path: Path) -> None:
    """Refuse, before any file is made beside it, a file that is not a JSON store."""
    kind = identify_store_file(path)
    if kind in (StoreFileKind.MISSING, StoreFileKind.JSON_STORE):
        return
    if kind is StoreFileKind.SQLITE:
        raise NotAStoreError(
            path, f"{path} is a SQLite database: open it with storage_backend='sqlite'"
        )
    raise NotAStoreError(path, f"{not_a_store_reason(path, kind)}; it was left untouched")


def _pack_rows(buffer: Matrix, rows: list[int], chunk: int = 4096) -> None:
    """Move ``buffer[rows]`` to the front, in place (``rows`` ascending, so never overtaken)."""
    if rows == list(range(len(rows))):
        return
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        buffer[start : start + len(part)] = buffer[part]


@contextlib.contextmanager
def _permission_errors(action: str) -> Iterator[None]:
    """Turn a ``PermissionError`` on a store file into ``StorePermissionError`` naming it."""
    try:
        yield
    except PermissionError as exc:
        if isinstance(exc, StorePermissionError):
            raise
        where = exc.filename if exc.filename is not None else "the store"
        raise StorePermissionError(where, action) from None


def _lock_error(path: Path, exc: OSError) -> StoreError:
    """Why the lock file cannot be used (a permission problem, or what the system said)."""
    if isinstance(exc, PermissionError):
        return StorePermissionError(path, "write")
    return StoreError(f"{path}: cannot lock the store ({exc})")


class _AddLine:
    """One ``add`` line of the journal: its bytes, its interactions and their dicts."""

    __slots__ = ("data", "dicts", "items")

    def __init__(self, data: bytes, items: list[Interaction], dicts: list[dict[str, Any]]) -> None:
        self.data = data
        self.items = items
        self.dicts = dicts


def _add_line(items: list[Interaction], rows: Matrix | None, start: int) -> _AddLine:
    """The ``add`` line of ``items``, whose vectors are ``rows[start:]`` (``InvalidInteraction``
    when an item is not JSON-serializable)."""
    dicts = [item.to_dict() for item in items]
    try:
        items_json = json.dumps(dicts, allow_nan=False)
    except (TypeError, ValueError):
        raise _not_serializable(items) from None
    head = '{"op": "add"'
    if rows is not None:
        part = rows[start : start + len(items)]
        encoded = base64.b64encode(np.ascontiguousarray(part, dtype="<f4").tobytes())
        head += f', "dim": {int(part.shape[1])}, "vectors": "{encoded.decode("ascii")}"'
    return _AddLine(f'{head}, "items": {items_json}}}\n'.encode(), items, dicts)


class _TornAppendError(StoreError):
    """Appending failed and the journal could not be cut back: ``complete`` lines were stored."""

    def __init__(self, path: Path, complete: int, cause: OSError) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.complete = complete
        self.cause = cause


def _not_serializable(items: Sequence[Interaction]) -> InvalidInteractionError:
    for item in items:
        try:
            json.dumps(item.to_dict(), allow_nan=False)
        except (TypeError, ValueError) as exc:
            return InvalidInteractionError(
                f"prompt {item.prompt_id!r}: metadata and attributes must be JSON-serializable "
                f"({exc}); nothing was written"
            )
    return InvalidInteractionError("the interactions are not JSON-serializable")
