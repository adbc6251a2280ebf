"""IndexKeeper: the vector index of a MemoryGraph, built from its store and kept in step with it."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.model import EncoderInfo, Interaction, SearchFilter
from raeburnmemory.core.numpy_index import scan
from raeburnmemory.core.registry import load_vector_backend
from raeburnmemory.core.store import Matrix, ScoredIds, Store
from raeburnmemory.core.vectors import VectorIndex

__all__ = ["IndexKeeper"]

# Vector backends that run inside a database, and the store that has them.
_IN_DATABASE = {"sqlite-vec": "sqlite", "pgvector": "postgres"}


def _default_vector_backend() -> str:
    return "faiss" if importlib.util.find_spec("faiss") is not None else "numpy"


class IndexKeeper:
    """Where a graph's vector searches run, and the index that answers them when it is ours.

    A store's own search (``sqlite-vec``, ``pgvector``: *native*) needs nothing kept here.
    Otherwise the index is built from the store on first need, follows other writers through
    :meth:`catch_up`, takes this graph's own writes through :meth:`add_own` and
    :meth:`remove`, and is rebuilt or reconciled after a reindex. Methods are called under
    the graph's lock.
    """

    def __init__(
        self, backend: str, index_cls: type[VectorIndex] | None, options: Mapping[str, Any]
    ) -> None:
        #: The vector backend's name.
        self.backend = backend
        #: ``None`` when the store searches its vectors itself.
        self.index_cls = index_cls
        #: The options meant for the vector index.
        self.options = dict(options)
        self.index: VectorIndex | None = None
        #: Whether the first search was answered by a scan (the next one builds the index).
        self.scanned = False

    @classmethod
    def choose(
        cls,
        store_cls: type[Store],
        storage_backend: str,
        vector_backend: str | None,
        options: Mapping[str, Any],
    ) -> IndexKeeper:
        """The keeper of ``vector_backend`` (or the default one) for a store of ``store_cls``.

        Refuses a database's own search on another store, and options that neither the store
        nor the vector backend knows (``ConfigurationError``).
        """
        backend = vector_backend or store_cls.default_vector_backend or _default_vector_backend()
        native = backend in store_cls.native_vector_backends
        if not native and backend in _IN_DATABASE:
            raise ConfigurationError(
                f"the {backend} vector backend runs inside a database: use "
                f"storage_backend={_IN_DATABASE[backend]!r} with it"
            )
        index_cls = None if native else load_vector_backend(backend)
        index_options = index_cls.option_names if index_cls else frozenset()
        unknown = sorted(set(options) - store_cls.option_names - index_options)
        if unknown:
            known = ", ".join(sorted(store_cls.option_names | index_options)) or "none"
            raise ConfigurationError(
                f"unknown option(s) {', '.join(unknown)} for the {storage_backend} store with "
                f"{backend} vectors; known options: {known}"
            )
        return cls(backend, index_cls, {k: v for k, v in options.items() if k in index_options})

    @property
    def native(self) -> bool:
        """Whether the store searches its vectors itself (there is no index to keep)."""
        return self.index_cls is None

    def open(self, store: Store) -> None:
        """Open a persistent index at once, reconciled with ``store``; others wait for a search."""
        if self.index_cls is not None and self.index_cls.persistent:
            info = store.encoder_info()
            if info is not None:
                self.index = self._create(store, info.dim)
                self.index.reconcile(store)

    def _create(self, store: Store, dim: int) -> VectorIndex:
        assert self.index_cls is not None
        return self.index_cls.create(dim=dim, store=store, options=self.options)

    def ensure(self, store: Store) -> VectorIndex | None:
        """The vector index, built from ``store`` on first need (``None``: search is native)."""
        if self.index_cls is None:
            return None
        if self.index is None:
            info = store.encoder_info()
            if info is None:
                return None
            index = self._create(store, info.dim)
            if index.persistent:
                index.reconcile(store)
            else:
                # a block at a time: the store's vectors are never all held beside the index's
                with store.vector_blocks() as blocks:
                    if blocks.count:
                        index.load_blocks(blocks)
            self.index = index
        return self.index

    def scan_once(self, store: Store, query: Matrix, k: int, flt: SearchFilter) -> ScoredIds | None:
        """The first search's answer by one pass over the stored vectors, or ``None``.

        A graph that searches once (a command, a script) need not build an in-memory index:
        when the index is not built yet, answers exactly as a scan does, nothing filters, and
        the store can hand its vectors over cheaply (a memory map), the query is scored
        against them directly; the index is built at the next search as before.
        """
        if (
            self.scanned
            or self.index is not None
            or self.index_cls is None
            or self.index_cls.persistent
            or not flt.is_empty
            or not self.index_cls.scans_exactly(self.options)
        ):
            return None
        stored = store.vector_matrix()
        if stored is None:
            return None
        self.scanned = True
        return scan(stored, query, k)

    def catch_up(self, store: Store) -> bool:
        """Bring the index up to date with other writers of ``store``; whether they changed it."""
        changes = store.refresh()
        if not changes:
            return False
        index = self.index
        if index is None or index.persistent:
            return True
        if changes.reset:
            index.close()
            self.index = None
            return True
        if changes.removed:
            index.remove(changes.removed)
        if changes.added.ids:
            added = changes.added
            index.add(added.ids, added.vectors, added.payloads)
        return True

    def wants_own_vectors(self) -> bool:
        """Whether :meth:`add_own` needs the vectors of the interactions just stored: an
        in-memory index not built yet reads them from the store with the rest, so the caller
        may let its copy go first."""
        cls = self.index_cls
        return self.index is not None or (cls is not None and cls.persistent)

    def add_own(
        self,
        store: Store,
        items: Sequence[Interaction],
        vectors: Matrix | None,
        added: Sequence[str],
    ) -> None:
        """Index the interactions this graph just stored (``added``: their prompt ids);
        ``vectors`` may be ``None`` when :meth:`wants_own_vectors` said they are not needed."""
        # An in-memory index built now comes from the store, these included; a persistent one
        # only adds ids it lacks, so it still needs these vectors.
        built_now = self.index is None
        index = self.ensure(store)
        if index is None or (built_now and not index.persistent):
            return
        if vectors is None:
            raise ValueError("the index is built: add_own needs the vectors just stored")
        fresh = set(added)
        rows = [i for i, item in enumerate(items) if item.prompt_id in fresh]
        picked = [items[i] for i in rows]
        # every item written (the usual batch): the vectors as they are, not a copy of them
        chosen = vectors if len(rows) == len(items) else vectors[rows]
        index.add([item.prompt_id for item in picked], chosen, [i.payload for i in picked])

    def remove(self, prompt_ids: Sequence[str]) -> None:
        """Forget the vectors of prompts this graph deleted."""
        if self.index is not None:
            self.index.remove(prompt_ids)

    def after_reindex(self, store: Store, info: EncoderInfo) -> None:
        """Swap in the vectors of ``store``'s new encoder ``info``, and finish the index."""
        if self.index is not None:
            if self.index.persistent and self.index.dim == info.dim:
                self.index.clear()
                self.index.reconcile(store)
            else:
                self.index.clear()  # its vectors are the old model's: nothing to keep
                self.index.close()
                self.index = None
                self.ensure(store)
        self.optimize()

    def reconcile(self, store: Store) -> None:
        """Make a persistent index match ``store`` (an in-memory one follows :meth:`catch_up`)."""
        if self.index is not None and self.index.persistent:
            self.index.reconcile(store)

    def after_direct_writes(self, store: Store) -> None:
        """Follow writes made to ``store`` past :meth:`add_own`: an in-memory index is built
        again on next use, a persistent one is reconciled."""
        if self.index is not None and self.index.persistent:
            self.index.reconcile(store)
        elif self.index is not None:
            self.index.close()
            self.index = None

    def optimize(self) -> None:
        """Build what the index defers (an HNSW graph)."""
        if self.index is not None:
            self.index.optimize()

    def can_search_now(self, store: Store, mode: str) -> bool:
        """Whether a search in ``mode`` answers from memory without waiting for anything.

        Only a vector search on an in-memory index already built does, and only when catching
        up with ``store``'s other writers cannot wait; a store or index that searches over the
        network, or an index still to be built, may take long.
        """
        index = self.index
        return (
            index is not None
            and not index.persistent
            and mode == "vector"
            and not store.catching_up_may_wait()
        )

    def own_files(self, store: Store) -> list[Path]:
        """The local files the vector index keeps beside ``store`` (none for a native search)."""
        if self.index_cls is None:
            return []
        return list(self.index_cls.own_files(store, self.options))

    def close(self) -> None:
        """Release the index."""
        try:
            if self.index is not None:
                self.index.close()
        finally:
            self.index = None
