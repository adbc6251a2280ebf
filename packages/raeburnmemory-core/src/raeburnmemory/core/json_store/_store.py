"""The JSON store's public class: it holds the lock and hands the work to its parts.

:class:`~raeburnmemory.core.json_store._follower.JournalFollower` keeps this process's view of
the files in step with the journal, :class:`~raeburnmemory.core.json_store._journal.JournalFile`
appends the lines, :mod:`~raeburnmemory.core.json_store._compaction` writes new snapshots and
:class:`~raeburnmemory.core.json_store._vector_rows.VectorRows` says where each vector is.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from raeburnmemory.core import checks
from raeburnmemory.core._collector import collector_paused
from raeburnmemory.core._keyword_index import KeywordIndex
from raeburnmemory.core._locking import StoreLock
from raeburnmemory.core.errors import (
    ConfigurationError,
    NotFoundError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from raeburnmemory.core.json_store import _compaction
from raeburnmemory.core.json_store._files import (
    OPTION_NAMES,
    StoreFiles,
    check_is_json_store,
    lock_error,
    parse_options,
    permission_errors,
)
from raeburnmemory.core.json_store._follower import JournalFollower
from raeburnmemory.core.json_store._listing import JsonListing
from raeburnmemory.core.json_store._lookups import JsonLookups
from raeburnmemory.core.json_store._metadata_columns import MetadataColumns
from raeburnmemory.core.json_store._snapshot import refuse_other_version
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.json_store._vector_reads import JsonVectorReads
from raeburnmemory.core.json_store._vector_rows import VectorLocation
from raeburnmemory.core.json_store._vector_tail import VectorTail, keep_batch_rows
from raeburnmemory.core.json_store._version import version_token
from raeburnmemory.core.json_store._write_checks import write_items
from raeburnmemory.core.limits import check_records
from raeburnmemory.core.model import Agent, EncoderInfo, Interaction, Link
from raeburnmemory.core.paths import resolve_db_path
from raeburnmemory.core.store import (
    Matrix,
    Store,
    StoreChanges,
)

__all__ = ["JsonStore"]


class JsonStore(JsonListing, JsonLookups, JsonVectorReads, Store):
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
        self._flock = StoreLock(self._files.lock, lock_timeout)
        self._mutex = threading.RLock()
        self._closed = False
        self._writable = True
        self._why_read_only: Callable[[], StoreError] | None = None
        self._wrote_since_open = False
        self._follower = JournalFollower(self._files, self._read_only)
        self._keywords: KeywordIndex | None = None
        self._tail: VectorTail | None = None  # large batches' vectors, for the next compaction
        self._metadata_columns = MetadataColumns()

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
        check_is_json_store(path)
        store = cls(path, fsync=fsync, lock_timeout=timeout)
        try:
            with permission_errors("read"):
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
                    self._follower.generation = 0
                    _compaction.commit_snapshot(self._follower, None, None)
        # Another format version is refused before recovery could rename or delete a file.
        for snapshot in (files.graph, files.temp(files.graph)):
            refuse_other_version(snapshot)
        with self._locked(write=False) as locked:
            if locked:
                _compaction.recover(self._files)
            self._follower.load()

    @contextlib.contextmanager
    def _locked(self, *, write: bool) -> Iterator[bool]:
        """Hold the store's file lock; a read goes on without it where it cannot be taken."""
        try:
            self._flock.acquire()
        except OSError as exc:
            cause = functools.partial(lock_error, self._files.lock, exc)
            if write:
                raise cause() from None
            self._read_only(cause)
            yield False
            return
        try:
            yield True
        finally:
            self._flock.release()

    def _follow_if_changed(self) -> None:
        """Before a read: follow the journal if it changed since the last look."""
        if self._follower.changed():
            with self._locked(write=False) as locked:
                self._follower.follow(locked=locked)

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
    def _writing(self) -> Iterator[JournalFollower]:
        with self._mutex:
            self._check_open()
            if not self._writable:
                if self._why_read_only is not None:
                    raise self._why_read_only()
                raise StoreError(f"{self.location}: the store is read-only here")
            with permission_errors("write"), self._locked(write=True):
                self._follower.follow()
                yield self._follower

    def _append(self, *lines: bytes) -> list[tuple[int, int]]:
        """Append whole lines to the journal, all or nothing (see :meth:`JournalFile.append`)."""
        return self._append_lines(lines)

    def _append_lines(self, lines: Iterable[bytes]) -> list[tuple[int, int]]:
        """:meth:`_append` for lines made as they are written (a large batch's)."""
        placed = self._follower.journal.append(lines, fsync=self._fsync)
        self._wrote_since_open = True
        return placed

    def _append_and_apply(self, fields: dict[str, Any]) -> None:
        """Append a line and apply it to this object's view of the store."""
        [(offset, length)] = self._append((json.dumps(fields) + "\n").encode())
        number = self._follower.journal.last_line
        self._follower.apply(fields, offset, length, foreign=False, number=number)

    def set_encoder_info(self, info: EncoderInfo) -> None:
        """Record the encoder of the vectors (``EmbeddingMismatchError`` once vectors exist)."""
        with self._writing() as view:
            encoder, rows = view.encoder, view.rows
            if encoder is None and len(rows) and rows.dim != info.dim:
                encoder = EncoderInfo("unknown", rows.dim or 0)  # vectors of an older store
            if not checks.check_encoder_change(encoder, info, lambda: len(rows) > 0):
                return
            self._append_and_apply({"op": "encoder", "name": info.name, "dim": info.dim})

    def add(
        self,
        interactions: Sequence[Interaction],
        vectors: Matrix | None,
        *,
        skip_conflicts: bool = False,
    ) -> list[str]:
        """Durably record interactions and their vectors, all or nothing; same content is skipped.

        Every item is checked first; the new ones are then appended as lines of at most
        ``JOURNAL_LINE_ITEMS`` interactions, all of them or none.
        """
        return self._write(interactions, vectors, skip_conflicts=skip_conflicts, replace=False)

    def replace(
        self,
        interactions: Sequence[Interaction],
        vectors: Matrix | None,
        *,
        rewrite: bool = False,
    ) -> list[str]:
        """Durably put interactions in place of the stored ones (see :meth:`Store.replace`):
        ``add`` lines that name the prompts they replace."""
        return self._write(
            interactions, vectors, skip_conflicts=False, replace=True, rewrite=rewrite
        )

    def _write(
        self,
        interactions: Sequence[Interaction],
        vectors: Matrix | None,
        *,
        skip_conflicts: bool,
        replace: bool,
        rewrite: bool = False,
    ) -> list[str]:
        items = list(interactions)
        if not items:
            return []
        block = checks.vector_matrix(vectors, len(items))
        check_records(items, block)
        with self._writing() as view:
            keep = self._keep_rows
            return write_items(
                view, self._append_lines, items, block, skip_conflicts, replace, rewrite, keep
            )

    def _keep_rows(self, rows: Matrix, entries: list[tuple[str, VectorLocation]]) -> None:
        self._tail = keep_batch_rows(self._follower, self._tail, rows, entries)

    def link(self, link: Link) -> None:
        """Durably record a caller-made edge (``NotFoundError`` if a prompt is missing)."""
        with self._writing() as view:
            for pid in (link.source, link.target):
                if pid not in view.state:
                    raise NotFoundError(f"no prompt with id {pid!r}")
            if (link.source, link.target, link.relation) in view.state.links:
                return
            source, target, relation = link.source, link.target, link.relation
            self._append_and_apply(
                {"op": "link", "source": source, "target": target, "relation": relation}
            )

    def delete(self, prompt_ids: Sequence[str]) -> list[str]:
        """Durably remove interactions with their vectors and links; returns the ids removed."""
        with self._writing() as view:
            ids = [pid for pid in dict.fromkeys(prompt_ids) if pid in view.state]
            if ids:
                self._append_and_apply({"op": "delete", "ids": ids})
            return ids

    def replace_vectors(
        self, batches: Iterable[tuple[list[str], Matrix]], info: EncoderInfo
    ) -> None:
        """Swap every prompt vector for ones made by ``info``: a new snapshot, all or nothing.

        Prompts the batches do not cover are left without a vector. Other writers wait for the
        lock while the batches are consumed.
        """
        with self._writing() as view:
            _compaction.replace_vectors(view, batches, info)

    def compact(self) -> None:
        """Fold the journal into a new snapshot, vectors file and map, written atomically."""
        with self._writing() as view:
            self._compact(view)

    def _compact(self, view: JournalFollower) -> None:
        tail, self._tail = self._tail, None
        with collector_paused():  # it lays out every record the snapshot holds
            _compaction.compact(view, tail)

    def _journal_large(self) -> bool:
        return _compaction.journal_is_large(self._follower)

    # -- reads -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[GraphState]:
        with self._mutex, permission_errors("read"):
            self._check_open()
            self._follow_if_changed()
            yield self._follower.state

    def encoder_info(self) -> EncoderInfo | None:
        """The encoder the stored vectors were made with, or ``None``."""
        with self._reading():
            return self._follower.encoder

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
            records = state.records_with_nodes()
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
                "vectors": len(self._follower.rows),
            }

    # -- vectors ---------------------------------------------------------------------------------

    def catching_up_may_wait(self) -> bool:
        """True when another thread is using the store or other writers' changes are unread.

        Reading those takes the writers' lock, which a writer may hold (a compaction, a
        write forced to disk); otherwise catching up only looks at this process's memory.
        """
        if not self._mutex.acquire(blocking=False):
            return True
        try:
            return self._closed or self._follower.changed()
        finally:
            self._mutex.release()

    def own_files(self) -> list[Path]:
        """The snapshot, journal, map, both vectors files, the lock and their temporary names."""
        return self._files.every()

    def derived_file(self, suffix: str) -> Path | None:
        """``<store file><suffix>``, beside the store's own files."""
        return Path(f"{self._files.graph}{suffix}")

    def version_token(self) -> str | None:
        """Changes with every write and compaction, by any process (see ``_version``)."""
        with self._reading():
            return version_token(self._follower)

    def refresh(self) -> StoreChanges:
        """Other writers' changes since the last call (or load_vectors), never this object's."""
        with self._mutex, permission_errors("read"):
            self._check_open()
            self._follow_if_changed()
            return self._follower.report()

    # -- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the journal; fold a large journal into the snapshot first. Harmless twice."""
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            try:
                if self._wrote_since_open and self._writable and self._journal_large():
                    with self._locked(write=True):
                        self._follower.follow()
                        if self._journal_large():  # another process may have just folded it
                            self._compact(self._follower)
            except (StoreError, OSError):
                pass  # the journal holds every write; the next close or export compacts
            finally:
                self._follower.close()
                self._flock.close()
                self._keywords = None
                self._metadata_columns.forget()

    def __enter__(self) -> JsonStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._follower.journal.close()
            self._flock.close()

    def __repr__(self) -> str:
        return f"JsonStore({self.location!r})"
