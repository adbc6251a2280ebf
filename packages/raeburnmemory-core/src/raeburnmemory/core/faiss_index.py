"""FAISS vector backend: exact inner-product search, or an HNSW graph for large stores.

Option ``index="flat"`` (default) is exact: the inner product of the query with every vector,
computed by :class:`NumpyIndex`, which answers a single query faster than ``IndexFlatIP`` does.
``index="hnsw"`` answers from a FAISS HNSW graph.
FAISS's HNSW cannot remove vectors, so a removed or replaced prompt is tombstoned: searches skip
it through an id selector, and the graph is rebuilt from the live vectors once tombstones pass a
fifth of it. Filters that few prompts pass are answered exactly instead, so ``k`` hits come back
whenever that many exist. A store on local disk keeps a copy of the graph beside it
(``<store>.hnsw``), so the next open loads the graph instead of building it again.

Unless the caller sets ``ef_search``, the graph chooses it from its own vectors (see
:mod:`raeburnmemory.core._hnsw_tuning`): when it is built, and again when it has doubled in
size, from the vectors of an insertion that brings at least fifty new prompts. The choice is
kept in the graph's copy, so a reopen does not measure again.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from raeburnmemory.core import _hnsw_copy, _hnsw_tuning
from raeburnmemory.core.checks import vectors_for_ids
from raeburnmemory.core.errors import BackendNotInstalledError, ConfigurationError
from raeburnmemory.core.model import SearchFilter, VectorPayload
from raeburnmemory.core.numpy_index import NumpyIndex, PayloadColumns
from raeburnmemory.core.options import Choice, WholeNumber, option_names, parse_options
from raeburnmemory.core.store import Matrix, ScoredIds, Store, StoredVectors, VectorBlocks

__all__ = ["FaissIndex"]

_INDEX_KINDS = ("flat", "hnsw")
# The HNSW graph's copy is ``<store><_COPY_SUFFIX>``.
_COPY_SUFFIX = ".hnsw"
_LARGEST = 2**31 - 1  # FAISS keeps both in a C int
_OPTIONS = (
    Choice("index", _INDEX_KINDS, "flat"),
    WholeNumber("hnsw_m", 32, 1, _LARGEST),
    WholeNumber("ef_search", None, 1, _LARGEST),
)
# ``ef_search`` before the graph has measured its own, and the least it chooses.
_DEFAULT_EF_SEARCH = 64
# Recall is measured for this many hits (recall@10).
_TUNED_FOR_K = 10


def _import_faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise BackendNotInstalledError(
            "vector", "faiss", "'raeburnmemory-core[faiss]'", "faiss"
        ) from exc
    return faiss


class _HnswGraph:
    """A FAISS HNSW graph over labels 0..n-1 with tombstones and per-label payloads."""

    def __init__(
        self, faiss: Any, dim: int, m: int, ef_construction: int, ef_search: int | None
    ) -> None:
        self._faiss = faiss
        self._dim = dim
        self.m = m
        self._ef_construction = ef_construction
        #: The caller's ``ef_search``, which always wins; ``None``: the graph chooses.
        self.given_ef_search = ef_search
        self.reset()

    @property
    def ef_search(self) -> int:
        """Candidates per search: the caller's, else the one measured, else the default."""
        if self.given_ef_search is not None:
            return self.given_ef_search
        return self.tuning.ef_search if self.tuning is not None else _DEFAULT_EF_SEARCH

    def reset(self) -> None:
        index = self._faiss.IndexHNSWFlat(self._dim, self.m, self._faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self._ef_construction
        self.index = index
        self.labels: list[str] = []
        self.label_of: dict[str, int] = {}
        self.alive = np.zeros(0, dtype=np.bool_)
        self.payloads = PayloadColumns()
        self.dead = 0
        #: The ``ef_search`` measured for this graph, and at what size; ``None``: not yet.
        self.tuning: _hnsw_copy.Tuning | None = None

    def add(self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]) -> None:
        self.tombstone(ids)
        start = len(self.labels)
        size = start + len(ids)
        if size > len(self.alive):
            capacity = max(size, 2 * len(self.alive), 1024)
            self.alive = np.resize(self.alive, capacity)
            self.payloads.reserve(capacity)
        self.alive[start:size] = True
        self.label_of.update(zip(ids, range(start, size), strict=True))
        self.payloads.set_many(start, payloads)
        self.labels.extend(ids)
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def adopt(
        self,
        cached: _hnsw_copy.CachedGraph,
        alive: npt.NDArray[np.bool_],
        payloads: Sequence[VectorPayload],
    ) -> None:
        """Take over a graph read back from its copy; labels not ``alive`` are tombstones."""
        self.reset()
        self.index = cached.index
        self.labels = list(cached.labels)
        self.alive = alive.copy()
        self.label_of = {self.labels[label]: int(label) for label in np.flatnonzero(alive)}
        self.payloads.reserve(len(self.labels))
        self.payloads.set_many(0, payloads)
        self.dead = len(self.labels) - len(self.label_of)
        self.tuning = cached.tuning

    def tombstone(self, ids: Sequence[str]) -> None:
        for pid in ids:
            label = self.label_of.pop(pid, None)
            if label is not None:
                self.alive[label] = False
                self.dead += 1

    def search_many(
        self,
        queries: Matrix,
        k: int,
        ef_search: int,
        allowed: npt.NDArray[np.bool_] | None = None,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The ``k`` best scores and labels of each query among ``allowed`` (default: alive)."""
        faiss = self._faiss
        size = len(self.labels)
        if allowed is None and self.dead:
            allowed = self.alive[:size]
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(ef_search, k)
        bitmap = None
        if allowed is not None:
            bitmap = np.packbits(allowed, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(size, faiss.swig_ptr(bitmap))
        scores, labels = self.index.search(queries, k, params=params)
        del bitmap  # the selector points into it until the search returns
        return scores, labels

    def search(self, query: Matrix, k: int, allowed: npt.NDArray[np.bool_] | None) -> ScoredIds:
        scores, labels = self.search_many(query.reshape(1, -1), k, self.ef_search, allowed)
        return [
            (self.labels[label], float(score))
            for label, score in zip(labels[0], scores[0], strict=True)
            if label >= 0
        ]


class FaissIndex(NumpyIndex):
    """FAISS search over prompt vectors, exact (``index="flat"``) or approximate (``"hnsw"``).

    The live vectors are also kept in a plain matrix, so exact answers (and rebuilds of the
    HNSW graph) never need to read the store again.
    """

    name: ClassVar[str] = "faiss"
    option_names: ClassVar[frozenset[str]] = option_names(_OPTIONS)

    #: Filters passed by fewer prompts than this are answered by an exact scan (hnsw only).
    exact_below: ClassVar[int] = 20_000
    #: HNSW graphs of fewer labels than this build quickly and are not copied to disk.
    copy_from: ClassVar[int] = 5_000
    #: HNSW graphs of fewer live prompts than this search with the default ``ef_search``.
    tune_from: ClassVar[int] = 1_000

    def __init__(
        self,
        dim: int,
        *,
        index: str = "flat",
        hnsw_m: int = 32,
        ef_search: int | None = None,
        graph_copy: Path | None = None,
    ) -> None:
        """``ef_search``: HNSW candidates per search (``None``: measured for recall@10 0.97).

        ``graph_copy``: where to keep a copy of the HNSW graph between runs (none: rebuild).
        """
        if index not in _INDEX_KINDS:
            kinds = ", ".join(_INDEX_KINDS)
            raise ConfigurationError(f"index must be one of {kinds}, not {index!r}")
        self.kind = index
        self._hnsw: _HnswGraph | None = None
        if index == "hnsw":
            faiss = _import_faiss()
            self._hnsw = _HnswGraph(faiss, dim, hnsw_m, max(40, 2 * hnsw_m), ef_search)
        elif importlib.util.find_spec("faiss") is None:
            _import_faiss()  # says what to install
        # An exact search is NumpyIndex's own: FAISS is not even loaded for it.
        self._graph_copy = graph_copy if index == "hnsw" else None
        # (labels, dead, tuning) of the graph when last copied or read back; None: never.
        self._copied: tuple[int, int, _hnsw_copy.Tuning | None] | None = None
        super().__init__(dim)

    @classmethod
    def create(cls, *, dim: int, store: Store, options: Mapping[str, Any]) -> FaissIndex:
        """An empty index; options ``index``, ``hnsw_m`` and ``ef_search``."""
        kwargs = parse_options("faiss index", _OPTIONS, options, unknown="ignore")
        return cls(dim, graph_copy=store.derived_file(_COPY_SUFFIX), **kwargs)

    @classmethod
    def scans_exactly(cls, options: Mapping[str, Any]) -> bool:
        """For ``index="flat"`` (the default), whose search is :class:`NumpyIndex`'s."""
        kind = parse_options("faiss index", _OPTIONS, options, unknown="ignore")["index"]
        return bool(kind == "flat")

    @classmethod
    def own_files(cls, store: Store, options: Mapping[str, Any]) -> list[Path]:
        """The copy of the HNSW graph beside the store and the temporary copies being written.

        Named whatever ``index`` is: a copy another process made stays this store's file.
        """
        copy = store.derived_file(_COPY_SUFFIX)
        return [] if copy is None else [copy, *_hnsw_copy.temporaries(copy)]

    def load(self, stored: StoredVectors) -> None:
        """Fill the empty index with the store's vectors (see :meth:`load_blocks`)."""
        self.load_blocks(VectorBlocks(len(stored), iter([stored])))

    def load_blocks(self, blocks: VectorBlocks) -> None:
        """Fill the empty index with the store's vectors, a block at a time; an HNSW graph
        comes from its copy.

        Labels of the copy whose prompt is gone or changed become tombstones, and prompts the
        copy lacks are added to it; without a usable copy the graph is built and copied.
        """
        self._reserve(len(self._ids) + blocks.count)
        for block in blocks:
            vectors = np.asarray(block.vectors, dtype=np.float32).reshape(-1, self.dim)
            NumpyIndex.add(self, block.ids, vectors, block.payloads)
            del block, vectors  # not held while the next block is read
        if self._hnsw is not None and len(self._ids):
            self._load_graph()

    def _load_graph(self) -> None:
        """The HNSW graph of the vectors just loaded: read back from its copy, or built."""
        graph = self._hnsw
        assert graph is not None
        size = len(self._ids)
        vectors = self._vectors()
        stored = StoredVectors(
            list(self._ids), vectors, [self._payloads.payload(row) for row in range(size)]
        )
        cached = None
        if self._graph_copy is not None:
            cached = _hnsw_copy.read(self._graph_copy, dim=self.dim, m=graph.m)
        if cached is not None and self._adopt(cached, stored, vectors):
            return
        self._graph_add(stored.ids, vectors, stored.payloads)
        self._copy_graph()

    def _adopt(
        self, cached: _hnsw_copy.CachedGraph, stored: StoredVectors, vectors: Matrix
    ) -> bool:
        """Take over the graph read back from the copy, unless so much of it is stale that it
        would be rebuilt at once; whether it was taken."""
        graph = self._hnsw
        assert graph is not None
        alive, row_of = _hnsw_copy.match(cached, self._rows, vectors)
        missing = np.ones(len(stored), dtype=np.bool_)
        missing[row_of[row_of >= 0]] = False
        rows = np.flatnonzero(missing)
        dead = len(alive) - int(alive.sum())
        if dead * 5 > len(alive) + len(rows):
            return False
        blank = VectorPayload("", "", 0.0)
        payloads = [stored.payloads[row] if row >= 0 else blank for row in row_of.tolist()]
        graph.adopt(cached, alive, payloads)
        self._copied = (len(graph.labels), graph.dead, graph.tuning)
        if len(rows):
            added = [stored.ids[r] for r in rows]
            self._graph_add(added, vectors[rows], [stored.payloads[r] for r in rows])
        self._maybe_rebuild()
        self._copy_graph(unless_within=0.05)
        return True

    def _graph_add(
        self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]
    ) -> None:
        """Insert into the HNSW graph (vectors the exact index already holds), measuring the
        graph's ``ef_search`` on the way when it is due and the insertion brings enough."""
        graph = self._hnsw
        assert graph is not None
        held = self._held_back(ids)
        if held is None:
            graph.add(ids, vectors, payloads)
            return
        rest = np.ones(len(ids), dtype=np.bool_)
        rest[held] = False
        kept = np.flatnonzero(rest)
        graph.add(
            [ids[i] for i in kept.tolist()], vectors[kept], [payloads[i] for i in kept.tolist()]
        )
        size = len(self._ids)
        queries = np.ascontiguousarray(vectors[held])
        rows = np.array([self._rows[ids[i]] for i in held.tolist()], dtype=np.intp)
        boundary = _hnsw_tuning.boundary_scores(
            self._columns[:, :size], queries, _TUNED_FOR_K, rows
        )
        ef_search = _hnsw_tuning.choose_ef_search(
            graph.search_many, queries, boundary, floor=_DEFAULT_EF_SEARCH, k=_TUNED_FOR_K
        )
        graph.tuning = _hnsw_copy.Tuning(ef_search, size)
        graph.add([ids[i] for i in held.tolist()], vectors[held], [payloads[i] for i in held])

    def _held_back(self, ids: Sequence[str]) -> npt.NDArray[np.intp] | None:
        """Positions in ``ids`` to hold back and measure with, or ``None``: not now.

        Due when the caller left ``ef_search`` to the graph, which has never been measured or
        has doubled since, and holds at least :attr:`tune_from` live prompts with this insertion.
        Only prompts new to the graph, once each in ``ids``, are held back.
        """
        graph = self._hnsw
        size = len(self._ids)
        if graph is None or graph.given_ef_search is not None or size < self.tune_from:
            return None
        if graph.tuning is not None and size < 2 * graph.tuning.size:
            return None
        counts: dict[str, int] = {}
        for pid in ids:
            counts[pid] = counts.get(pid, 0) + 1
        new = [i for i, pid in enumerate(ids) if counts[pid] == 1 and pid not in graph.label_of]
        wanted = min(_hnsw_tuning.SAMPLE, len(new), size // 4)
        if wanted < _hnsw_tuning.MIN_SAMPLE:
            return None
        # A fixed choice for a given size: the same store always measures the same way.
        picked = np.random.default_rng(size).choice(len(new), size=wanted, replace=False)
        return np.sort(np.asarray(new, dtype=np.intp)[picked])

    def _copy_graph(self, *, unless_within: float = 0.0) -> None:
        """Write the copy of the HNSW graph, unless it changed by less than that fraction
        (and its ``ef_search`` was not measured again since)."""
        graph = self._hnsw
        if graph is None or self._graph_copy is None:
            return
        if len(graph.labels) < max(1, self.copy_from):
            if self._copied is not None:  # a copy of when the graph was larger: now only a cost
                _hnsw_copy.remove(self._graph_copy)
                self._copied = None
            return
        state = (len(graph.labels), graph.dead, graph.tuning)
        if self._copied is not None and self._copied[2] == graph.tuning:
            changed = abs(state[0] - self._copied[0]) + abs(state[1] - self._copied[1])
            if changed <= unless_within * state[0]:
                return
        if _hnsw_copy.write(self._graph_copy, graph.index, graph.labels, graph.tuning):
            self._copied = state

    def close(self) -> None:
        """Copy the HNSW graph to disk when it changed by more than a twentieth since read."""
        self._copy_graph(unless_within=0.05)

    def add(self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]) -> None:
        """Insert or replace vectors (``InvalidInteractionError`` for vectors that do not fit)."""
        if not ids:
            return
        vectors = np.ascontiguousarray(vectors_for_ids(ids, vectors, self.dim))
        super().add(ids, vectors, payloads)
        if self._hnsw is not None:
            self._graph_add(ids, vectors, payloads)
            self._maybe_rebuild()

    def remove(self, ids: Sequence[str]) -> None:
        """Forget ids; in an HNSW graph they are tombstoned until the next rebuild."""
        super().remove(ids)
        if self._hnsw is not None:
            self._hnsw.tombstone(ids)
            self._maybe_rebuild()

    def _maybe_rebuild(self) -> None:
        graph = self._hnsw
        if graph is None or graph.dead * 5 <= len(graph.labels):
            return
        graph.reset()
        size = len(self._ids)
        if size:
            payloads = [self._payloads.payload(row) for row in range(size)]
            self._graph_add(list(self._ids), self._vectors(), payloads)

    def search(self, query: Matrix, k: int, flt: SearchFilter | None = None) -> ScoredIds:
        """Top ``k`` among the prompts that pass ``flt``."""
        size = len(self._ids)
        if size == 0 or k <= 0:
            return []
        flt = flt or SearchFilter()
        graph = self._hnsw
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        if graph is None:
            # Exact search is numpy's (a BLAS product, or only a sparse query's dimensions):
            # for one query at a time it measured faster than IndexFlatIP, with the same answers.
            return super().search(q, k, flt)
        labels = len(graph.labels)
        allowed = graph.payloads.mask(flt, labels, graph.label_of)
        if allowed is not None:
            allowed &= graph.alive[:labels]
            if int(allowed.sum()) < max(self.exact_below, 4 * k):
                return super().search(q, k, flt)
        return graph.search(q, min(k, size), allowed)

    def clear(self) -> None:
        """Forget every vector."""
        super().clear()
        if self._hnsw is not None:
            self._hnsw.reset()
