"""The contract every vector backend meets.

A vector index answers "which stored prompts are nearest to this vector?" with cosine
similarity over normalized vectors. It keeps a small payload beside each vector (session, agent,
timestamp) so filters are applied inside the search and ``k`` hits still come back when they exist.

In-memory indexes (numpy, FAISS) are rebuilt from the store when a MemoryGraph opens and kept
current through :meth:`Store.refresh`. Persistent ones (Qdrant) keep their vectors themselves and
are reconciled with the store by :meth:`VectorIndex.reconcile`. Backends register their class under
the entry-point group ``raeburnmemory.vectors``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from raeburnmemory.core.model import SearchFilter, VectorPayload
from raeburnmemory.core.store import Matrix, ScoredIds, Store, StoredVectors, VectorBlocks

__all__ = ["VectorIndex"]


class VectorIndex(ABC):
    """Nearest-neighbour search over prompt vectors, by cosine similarity."""

    #: The name the backend is registered under (``vector_backend=...``).
    name: ClassVar[str]
    #: Keyword options of ``MemoryGraph(**options)`` this backend understands.
    option_names: ClassVar[frozenset[str]] = frozenset()
    #: True when the index keeps its vectors across runs itself (it is then reconciled, not
    #: rebuilt).
    persistent: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def create(cls, *, dim: int, store: Store, options: Mapping[str, Any]) -> VectorIndex:
        """Build an empty index (or open a persistent one) for vectors of ``dim`` dimensions."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """The dimension of the vectors."""

    @abstractmethod
    def add(self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]) -> None:
        """Insert or replace vectors, row for row with ``ids`` and ``payloads``."""

    @abstractmethod
    def remove(self, ids: Sequence[str]) -> None:
        """Forget these ids; unknown ids are ignored. A removed id is never returned again."""

    @abstractmethod
    def search(self, query: Matrix, k: int, flt: SearchFilter | None = None) -> ScoredIds:
        """The ``k`` best ``(id, cosine similarity)`` pairs for one normalized query, best first.

        Only prompts that pass ``flt`` are returned, and ``k`` of them whenever that many pass.
        """

    @abstractmethod
    def clear(self) -> None:
        """Forget every vector."""

    @abstractmethod
    def __len__(self) -> int:
        """How many vectors the index holds."""

    @classmethod
    def own_files(cls, store: Store, options: Mapping[str, Any]) -> list[Path]:
        """The local files and folders an index of this backend keeps for ``store``.

        ``options`` are the backend's options. Existing or not; an export refuses to write over
        them. An index kept only in memory or on a server has none.
        """
        return []

    @classmethod
    def scans_exactly(cls, options: Mapping[str, Any]) -> bool:
        """Whether an index of these ``options`` answers exactly as one pass over every vector
        does (the inner product with each, ties by row): then a graph that searches once may
        scan the store's vectors instead of building the index. ``False`` by default."""
        return False

    def load(self, stored: StoredVectors) -> None:
        """Fill the empty index with the store's vectors when a graph opens (``add`` by default)."""
        self.add(stored.ids, stored.vectors, stored.payloads)

    def load_blocks(self, blocks: VectorBlocks) -> None:
        """Fill the empty index with the store's vectors handed over a block at a time
        (:meth:`Store.vector_blocks`).

        This default joins the blocks and calls :meth:`load`; indexes that copy the vectors
        anyway (numpy, FAISS) take them block by block, so the store's vectors are never all
        held twice.
        """
        parts = list(blocks)
        if len(parts) == 1:
            self.load(parts[0])
            return
        ids = [pid for part in parts for pid in part.ids]
        payloads = [payload for part in parts for payload in part.payloads]
        matrix = np.concatenate([part.vectors for part in parts]) if parts else None
        self.load(StoredVectors(ids, matrix, payloads) if matrix is not None else StoredVectors())

    def reconcile(self, store: Store) -> None:  # noqa: B027 - only persistent indexes need it
        """Make a persistent index match the store, the source of truth (no-op in memory)."""

    def sync(self, store: Store) -> None:
        """The former name of :meth:`reconcile`, which it calls; override ``reconcile``."""
        self.reconcile(store)

    def optimize(self) -> None:  # noqa: B027 - only indexes that defer building need it
        """Build what the index defers (a search graph) now; export() and reindex() call it."""

    def close(self) -> None:  # noqa: B027 - only indexes holding resources need it
        """Release what the index holds (clients, files)."""
