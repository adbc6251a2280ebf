"""MemoryViews: what a MemoryGraph reads back besides searches, down to its graph and export."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from raeburnmemory.core._export_file import atomic_text_file, refuse_store_file
from raeburnmemory.core.errors import ConfigurationError, NotFoundError, StoreError
from raeburnmemory.core.graph import build_graph, iter_node_link_json, node_link_data, to_networkx
from raeburnmemory.core.importing import ImportResult, import_file
from raeburnmemory.core.jsonl import write_jsonl
from raeburnmemory.core.memory._expiry import Expired
from raeburnmemory.core.memory._index_keeper import IndexKeeper
from raeburnmemory.core.model import Agent, Interaction, Link, utc_now
from raeburnmemory.core.store import Store

__all__ = ["MemoryViews"]


class MemoryViews:
    """The reading side of :class:`~raeburnmemory.core.memory.MemoryGraph`, which sets the
    attributes declared here: the stored interactions, sessions, agents and statistics, the
    graph they make, and its export.

    Each read takes the graph's lock and catches up with other writers first.
    """

    _store: Store | None
    _closed: bool
    _lock: threading.RLock
    _keeper: IndexKeeper
    #: The networkx graph of :attr:`graph`, until the memory changes.
    _graph: Any

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store this graph reads and writes."""
        if self._closed or self._store is None:
            raise StoreError("this MemoryGraph is closed")
        return self._store

    @property
    def location(self) -> str:
        """Where the store lives (a path, or a URL without its password)."""
        return self.store.location

    @property
    def storage_backend(self) -> str:
        """The name of the store's backend."""
        return self.store.name

    @property
    def vector_backend(self) -> str:
        """The name of the vector backend in use."""
        return self._keeper.backend

    def _catch_up(self) -> None:
        """Bring this object up to date with other writers of the store."""
        if self._keeper.catch_up(self.store):
            self._graph = None

    # -- reads -----------------------------------------------------------------------------------

    def get_interaction(self, prompt_id: str) -> Interaction:
        """The interaction of a prompt (``NotFoundError`` if there is none, or it expired)."""
        with self._lock:
            self._catch_up()
            item = self.store.get(prompt_id)
        if item is None or item.is_expired(utc_now()):
            raise NotFoundError(f"no prompt with id {prompt_id!r}")
        return item

    def get_session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (``NotFoundError`` if the session is unknown)."""
        with self._lock:
            self._catch_up()
            items = self.store.session(session_id)
        items = Expired.keep_in(items)
        if not items:
            raise NotFoundError(f"no session with id {session_id!r}")
        return items

    def sessions(self) -> list[str]:
        """Every session id, in order of first appearance."""
        with self._lock:
            self._catch_up()
            return Expired(self.store).sessions()

    def agents(self) -> list[Agent]:
        """Every agent with its latest name."""
        with self._lock:
            self._catch_up()
            return Expired(self.store).agents()

    def stats(self) -> dict[str, Any]:
        """What the memory holds and how it is configured."""
        with self._lock:
            self._catch_up()
            counts: dict[str, Any] = Expired(self.store).stats()
            info = self.store.encoder_info()
            counts["vectors"] = counts["interactions"] if info is not None else 0
            counts["encoder"] = info.name if info else None
            counts["dim"] = info.dim if info else None
            counts["storage_backend"] = self.store.name
            counts["vector_backend"] = self._keeper.backend
            counts["location"] = self.store.location
            return counts

    # -- the graph -------------------------------------------------------------------------------

    def _graph_attrs(self) -> dict[str, Any]:
        info = self.store.encoder_info()
        return {
            "name": "raeburnmemory",
            "storage_backend": self.store.name,
            "encoder": None if info is None else {"name": info.name, "dim": info.dim},
        }

    def _graph_parts(self, session_id: str | None) -> tuple[list[Interaction], list[Link]]:
        expired = Expired(self.store)
        links = expired.links(self.store.links())
        if session_id is None:
            return expired.keep(list(self.store.iter_interactions())), links
        items = expired.keep(self.store.session(session_id))
        if not items:
            raise NotFoundError(f"no session with id {session_id!r}")
        return items, links

    def node_link_data(self, session_id: str | None = None) -> dict[str, Any]:
        """The node-link JSON of the whole graph (or of one session)."""
        with self._lock:
            self._catch_up()
            items, links = self._graph_parts(session_id)
            return node_link_data(items, links, self._graph_attrs())

    def iter_node_link_json(self, session_id: str | None = None) -> Iterator[str]:
        """:meth:`node_link_data` as JSON text in chunks, for streaming large graphs."""
        with self._lock:
            self._catch_up()
            items, links = self._graph_parts(session_id)
            attrs = self._graph_attrs()
        return iter_node_link_json(items, links, attrs)

    @property
    def graph(self) -> Any:
        """The memory as a ``networkx.DiGraph`` (or a built-in stand-in without networkx).

        Node keys are ``"prompt:<id>"``, ``"response:<id>"``, ``"agent:<id>"`` and
        ``"session:<id>"``; edges carry a ``relation``. Rebuilt after any change.
        """
        with self._lock:
            self._catch_up()
            if self._graph is None:
                self._graph = build_graph(self.node_link_data())
            return self._graph

    def to_networkx(self) -> Any:
        """A fresh ``networkx.DiGraph`` of the memory (needs networkx)."""
        return to_networkx(self.node_link_data())

    # -- export ----------------------------------------------------------------------------------

    def own_files(self) -> list[Path]:
        """Every local file and folder of the store and of its vector index (none on a server).

        Existing or not, temporary names included: the snapshot, journal and lock of a JSON
        store, a SQLite database with its ``-wal`` and ``-shm`` files, the HNSW graph's copy, a
        local Qdrant folder. :meth:`export` refuses to write over any of them.
        """
        with self._lock:
            return [*self.store.own_files(), *self._keeper.own_files(self.store)]

    def check_export_target(self, path: str | os.PathLike[str]) -> Path:
        """``path`` as a ``Path``, unless it names one of :meth:`own_files`.

        Symbolic links, ``..`` and hard links are seen through. Raises ``ExportTargetError``.
        """
        target = Path(path).expanduser()
        refuse_store_file(target, self.own_files(), self.store.location)
        return target

    @contextlib.contextmanager
    def open_export(self, path: str | os.PathLike[str]) -> Iterator[IO[str]]:
        """A text file to write an export to, at ``path``; it appears there whole or not at all.

        It is written under a temporary name in the same folder, forced to disk and renamed
        over ``path``, replacing any file there (a symbolic link at ``path`` is replaced itself;
        what it points to is not written). One of the store's own files raises
        ``ExportTargetError`` and nothing is written; a failure to write (a full disk) raises
        ``StoreError`` naming the file, and no temporary file is left.
        """
        target = self.check_export_target(path)
        with atomic_text_file(target) as handle:
            yield handle

    def _purge_expired(self) -> int:
        """Delete the expired interactions (under the lock, caught up); how many."""
        doomed = self.store.expired_ids(utc_now())
        removed = self.store.delete(doomed) if doomed else []
        if removed:
            self._graph = None
            self._keeper.remove(removed)
        return len(removed)

    def purge_expired(self) -> int:
        """Delete every interaction whose ``expires_at`` has come, with its vector and links, in
        one durable step; returns how many. :meth:`export` does it too.

        Reads leave expired interactions out already: this frees the room they take.
        """
        with self._lock:
            self._catch_up()
            return self._purge_expired()

    def export(self, path: str | os.PathLike[str] | None = None, format: str = "json") -> None:
        """Delete expired interactions (:meth:`purge_expired`), make the store compact and
        durable, and build what the vector index defers (an HNSW graph); with ``path``, also
        write every memory there.

        ``format="json"`` writes the node-link JSON of the graph; ``"jsonl"`` writes JSON Lines,
        one interaction a line with its vector, after a header naming the encoder (see
        :mod:`raeburnmemory.core.jsonl`), which :meth:`import_file` reads back without loss.
        The file is written whole or not at all, replacing a file at ``path``. A ``path`` that
        is one of the store's own files (:meth:`own_files`) raises ``ExportTargetError``
        before anything is done.
        """
        if format not in ("json", "jsonl"):
            raise ConfigurationError(f"format must be 'json' or 'jsonl', not {format!r}")
        with self._lock:
            if path is not None:
                self.check_export_target(path)
            self._catch_up()
            self._purge_expired()
            self.store.compact()
            self._keeper.optimize()
            if path is None:
                return
            if format == "jsonl":
                write_jsonl(self, path)  # type: ignore[arg-type]
                return
            with self.open_export(path) as out:
                for chunk in self.iter_node_link_json():
                    out.write(chunk)

    def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        reembed: bool | None = None,
        progress: Callable[[int, int], None] | None = None,
        on_conflict: Literal["error", "skip"] = "error",
    ) -> ImportResult:
        """Add what an export file holds (JSON Lines or node-link JSON), told apart by content.

        Stored vectors are kept when the file's encoder is this graph's, and prompts are
        encoded again when it differs or with ``reembed=True`` (``reembed=False`` refuses
        that). ``progress(done, total)`` follows each batch. See
        :func:`raeburnmemory.core.importing.import_file` for conflicts and bad lines.
        """
        return import_file(
            self,  # type: ignore[arg-type]
            path,
            reembed=reembed,
            progress=progress,
            on_conflict=on_conflict,
        )
