"""Prompt vectors in Qdrant: embedded (Qdrant Edge) in a folder beside the store, or on a server.

The store stays the source of truth: MemoryGraph writes it first, then tells this index. When
Qdrant cannot be reached, the change waits in memory (with a warning in the log) and is pushed by
the next write, search or :meth:`QdrantVectors.reconcile`; a change lost with the process is
restored by the reconciliation every MemoryGraph runs when it opens, which makes the collection
match the store. An embedded shard closed in step with the store records a fingerprint of its
rows (and the store's version token), and a reconciliation that finds the store's token, or
else its fingerprint, equal skips comparing them (see ``_in_step``).
Both engines sit behind the same calls (see ``_engine``): Qdrant Edge without a URL, qdrant-client
with one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from raeburnmemory.core.checks import vectors_for_ids
from raeburnmemory.core.errors import (
    ConfigurationError,
    RaeburnMemoryError,
    StoreError,
    StoreUnavailableError,
)
from raeburnmemory.core.limits import check_vectors
from raeburnmemory.core.model import SearchFilter, VectorPayload
from raeburnmemory.core.options import option_names
from raeburnmemory.core.store import Matrix, ScoredIds, Store, StoredVectors
from raeburnmemory.core.vectors import VectorIndex
from raeburnmemory.qdrant._engine import Engine
from raeburnmemory.qdrant._failures import failed, is_unavailable, translated, unavailable
from raeburnmemory.qdrant._in_step import Claim, ShardContent, fingerprint_of, row_hashes
from raeburnmemory.qdrant._outage import Outage
from raeburnmemory.qdrant._pending import MAX_PENDING, PendingChanges
from raeburnmemory.qdrant._points import point_id
from raeburnmemory.qdrant.settings import OPTIONS, QdrantSettings, resolve_settings

__all__ = ["QdrantVectors"]

_log = logging.getLogger("raeburnmemory.qdrant")


def _engine_for(settings: QdrantSettings) -> Engine:
    """Qdrant Edge for a local folder, qdrant-client for a server (imported only when used)."""
    if settings.local:
        from raeburnmemory.qdrant._edge import EdgeEngine

        return EdgeEngine(settings)
    from raeburnmemory.qdrant._server import ServerEngine

    return ServerEngine(settings)


class QdrantVectors(VectorIndex):
    """A persistent vector index in Qdrant (``vector_backend="qdrant"``).

    Options: ``qdrant_url`` (else ``$RAEBURN_QDRANT_URL``; none means embedded Qdrant Edge in
    ``<store file>.qdrant/``), ``qdrant_api_key`` (else ``$RAEBURN_QDRANT_API_KEY``) and
    ``collection`` (default: from the store's file name).
    """

    name: ClassVar[str] = "qdrant"
    option_names: ClassVar[frozenset[str]] = option_names(OPTIONS)
    persistent: ClassVar[bool] = True

    def __init__(self, dim: int, store: Store, settings: QdrantSettings, engine: Engine) -> None:
        self._dim = dim
        self._store = store
        self._settings = settings
        self._engine = engine
        self._release = weakref.finalize(self, engine.release)
        self._lock = threading.RLock()
        self._pending = PendingChanges()
        self._outage = Outage(settings.where)
        self._encoder_recorded = store.encoder_info() is not None
        # What the collection holds, followed through this index's own writes, and the engine's
        # write count after the last of them (another index of the process writing makes the
        # two differ, and then no fingerprint is recorded at close).
        self._content = ShardContent()
        self._writes_seen = -1
        # The store's version token read before the shard last matched the store, and the
        # engine's write count then: it still names the shard's content while that count holds.
        self._store_version: str | None = None
        self._version_writes = -1

    @classmethod
    def create(cls, *, dim: int, store: Store, options: Mapping[str, Any]) -> QdrantVectors:
        """Open (creating it if needed) the collection of ``store`` for ``dim``-dimensional vectors.

        Raises ``StoreLockedError`` when another process holds the store's embedded shard, and
        ``ConfigurationError`` when the named collection exists but was not made for this store's
        vectors. A server that cannot be reached is not an error here: the index opens with a full
        reconciliation pending, so writes still succeed, and ``reconcile`` or a search will raise
        ``StoreUnavailableError`` while the server stays out of reach.
        """
        settings = resolve_settings(store.location, options)
        index = cls(dim, store, settings, _engine_for(settings))
        try:
            with translated(settings, "opening the collection"):
                index._open_engine().open(dim, store.encoder_info())
        except StoreUnavailableError as exc:
            if settings.local:
                index._release()
                raise
            index._pending.full_sync = True
            index._outage.failed(exc, "opening the collection", str(exc))
        except BaseException:
            index._release()
            raise
        return index

    @classmethod
    def own_files(cls, store: Store, options: Mapping[str, Any]) -> list[Path]:
        """The local folder of embedded Qdrant (none with a server)."""
        path = resolve_settings(store.location, options).path
        return [] if path is None else [path]

    @property
    def dim(self) -> int:
        """The dimension of the vectors."""
        return self._dim

    @property
    def settings(self) -> QdrantSettings:
        """Where the vectors live: the server or local folder, and the collection."""
        return self._settings

    @property
    def pending(self) -> int:
        """How many prompts' changes wait for Qdrant to be reachable again."""
        with self._lock:
            return len(self._pending)

    # -- talking to Qdrant ---------------------------------------------------------------------

    def _open_engine(self) -> Engine:
        """The engine, for one call (its shard taken again first if it was closed)."""
        if not self._release.alive:
            raise StoreError(f"the Qdrant index of {self._settings.where} is closed")
        self._engine.reopen_if_closed()
        return self._engine

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Engine]:
        """The engine for one write, followed by :attr:`_content` (lost on failure)."""
        engine = self._open_engine()
        followed = engine.writes() == self._writes_seen
        try:
            yield engine
        except BaseException:
            self._content.lost()
            raise
        if followed:
            self._writes_seen = engine.writes()
        else:
            self._content.lost()

    def _upsert(
        self,
        points: StoredVectors,
        point_ids: Sequence[str] | None = None,
    ) -> None:
        with self._writing() as engine:
            engine.upsert(points, point_ids)
            self._content.upserted(points.ids, points.vectors, points.payloads)

    def _delete_points(self, point_ids: Sequence[str], prompt_ids: Sequence[str] = ()) -> None:
        """Delete points; ``prompt_ids`` names them all, or the content followed is lost."""
        if point_ids:
            with self._writing() as engine:
                engine.delete(point_ids)
                if len(prompt_ids) == len(point_ids):
                    self._content.removed(prompt_ids)
                else:
                    self._content.lost()

    def _recreate(self) -> None:
        encoder = self._store.encoder_info()
        with self._writing() as engine:
            engine.recreate(self._dim, encoder)
            self._content.emptied()
        self._encoder_recorded = encoder is not None

    def _not_held(
        self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]
    ) -> list[int]:
        """The rows the shard does not hold already, as far as this index can tell.

        A graph's first batch is indexed twice otherwise: the reconciliation that opens the
        index upserts it from the store, then the graph adds it.
        """
        engine = self._engine
        if not engine.exclusive or engine.writes() != self._writes_seen:
            return list(range(len(ids)))
        return self._content.differing(ids, vectors, payloads)

    def _in_step(self, store: Store, version: str | None) -> bool:
        """Whether the shard was closed holding exactly what ``store`` holds now.

        ``version`` is the store's token, read before anything else of the store: equal to the
        one the marker records, no vector is read; otherwise the store's rows are fingerprinted.
        """
        engine = self._open_engine()
        claim = engine.in_step_claim()
        if claim is None:
            return False
        if version is not None and claim.store_version == version:
            # Not known row by row: this index's writes are not followed, so the first one
            # takes the claim away and the next open compares fingerprints.
            self._content.lost()
        else:
            stored = store.load_vectors()
            hashes = row_hashes(stored.ids, stored.vectors, stored.payloads)
            if fingerprint_of(hashes, len(hashes)) != claim.fingerprint:
                return False
            self._content.matched(stored, hashes=hashes)
        self._matched_version(version)
        return True

    def _matched_version(self, version: str | None) -> None:
        """The shard has just been made (or found) to hold the store's rows of ``version``."""
        self._writes_seen = self._version_writes = self._open_engine().writes()
        self._store_version = version

    def _record_encoder(self) -> None:
        if self._encoder_recorded:
            return
        encoder = self._store.encoder_info()
        if encoder is not None:
            self._open_engine().record_encoder(self._dim, encoder)
            self._encoder_recorded = True

    def _match_store(self, store: Store) -> None:
        """Make the collection hold exactly the store's vectors."""
        encoder = store.encoder_info()
        # Read before the store's rows: a write meanwhile makes the token recorded stale (the
        # next open then compares fingerprints), never a newer token over older rows.
        version = store.version_token()
        if self._pending.reset:
            self._recreate()
        else:
            self._open_engine().open(self._dim, encoder)
            if self._in_step(store, version):
                self._pending.clear()
                return
        # The collection is listed before the store is read: another process writes the store
        # first, so a point it adds meanwhile is in the store read too and is never deleted here.
        present = self._open_engine().point_ids()
        stored = store.load_vectors()
        wanted = [point_id(pid) for pid in stored.ids]
        self._delete_points(sorted(present.difference(wanted)))
        rows = [row for row, point in enumerate(wanted) if point not in present]
        if rows and len(rows) == len(wanted):  # every row: no copy of the matrix
            self._upsert(stored, wanted)
        elif rows:
            missing = StoredVectors(
                [stored.ids[row] for row in rows],
                stored.vectors[rows],
                [stored.payloads[row] for row in rows],
            )
            self._upsert(missing, [wanted[row] for row in rows])
        if self._engine.exclusive:
            self._content.matched(stored, (stored.ids[row] for row in rows))
            self._matched_version(version)
        self._pending.clear()
        self._encoder_recorded = False
        self._record_encoder()

    def _push(self) -> None:
        """Push every waiting change; raises what Qdrant raised."""
        if self._pending.full_sync:
            self._match_store(self._store)
            return
        if self._pending.reset:
            self._recreate()
            self._pending.reset = False
        removals = self._pending.removals()
        if removals:
            self._delete_points([point_id(pid) for pid in removals], removals)
        ids, vectors, payloads = self._pending.upserts(self._dim)
        if ids:
            self._upsert(StoredVectors(ids, vectors, payloads))
        self._pending.pushed()
        self._record_encoder()

    def _collection_missing(self) -> bool:
        return self._release.alive and self._engine.missing()

    def _flush(self, doing: str, *, force: bool = False) -> BaseException | None:
        """Push waiting changes; returns why Qdrant is out of reach, or ``None`` when done.

        Writes (``force=False``) leave Qdrant alone for a while after a failure; reads always
        try. Failures other than Qdrant being out of reach are raised. A collection removed by
        someone else is created again and filled from the store.
        """
        if not self._pending:
            return None
        if not force and not self._outage.may_retry():
            return self._outage.reason
        waiting = len(self._pending)
        try:
            try:
                self._push()
            except Exception as exc:
                if is_unavailable(exc, self._settings) or not self._collection_missing():
                    raise
                self._pending.full_sync = True
                self._push()
        except Exception as exc:
            if not is_unavailable(exc, self._settings):
                self._pending.full_sync = True  # rebuild from the store on the next call
                raise failed(self._settings, exc, doing) from exc
            self._outage.failed(exc, doing, str(unavailable(self._settings, exc, doing)))
            return exc
        self._outage.recovered(waiting)
        return None

    # -- the VectorIndex contract --------------------------------------------------------------

    def _matrix(self, ids: Sequence[str], vectors: Matrix) -> Matrix:
        matrix = vectors_for_ids(ids, vectors, self._dim)
        check_vectors(matrix)
        return matrix

    def add(self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]) -> None:
        """Upsert vectors; when Qdrant is out of reach they wait and a warning is logged."""
        if not ids:
            return
        matrix = self._matrix(ids, vectors)
        with self._lock:
            rows = self._not_held(ids, matrix, payloads)
            if not rows:
                return
            if len(rows) < len(ids):
                ids, matrix = [ids[row] for row in rows], matrix[rows]
                payloads = [payloads[row] for row in rows]
            if len(ids) > MAX_PENDING and not self._pending:
                try:  # too many to queue: push now, or rebuild from the store later
                    self._upsert(StoredVectors(list(ids), matrix, list(payloads)))
                    return
                except Exception as exc:
                    if not is_unavailable(exc, self._settings):
                        raise failed(self._settings, exc, "adding vectors") from exc
            self._pending.add(ids, matrix, payloads)
            self._flush("adding vectors")

    def remove(self, ids: Sequence[str]) -> None:
        """Delete the prompts' points; when Qdrant is out of reach the removal waits."""
        if not ids:
            return
        with self._lock:
            self._pending.remove(ids)
            self._flush("removing vectors")

    def search(self, query: Matrix, k: int, flt: SearchFilter | None = None) -> ScoredIds:
        """The ``k`` nearest prompts that pass ``flt``; the filter runs inside Qdrant.

        Waiting changes are pushed first; if that cannot be done the search raises
        ``StoreUnavailableError`` rather than answer from a collection that lags the store.
        """
        if k <= 0 or (flt is not None and flt.prompt_ids is not None and not flt.prompt_ids):
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self._dim:
            raise ConfigurationError(
                f"the query has {vector.shape[0]} dimensions, the Qdrant collection "
                f"{self._settings.collection!r} {self._dim}"
            )
        with self._lock:
            reason = self._flush("searching", force=True)
            if reason is not None:
                raise unavailable(self._settings, reason, "searching") from reason
        with translated(self._settings, "searching"):
            return self._open_engine().search(vector, k, flt)

    def clear(self) -> None:
        """Drop every vector (the collection is created again, empty)."""
        with self._lock:
            self._pending.clear()
            self._pending.reset = True
            self._flush("clearing the collection")

    def __len__(self) -> int:
        """How many points the collection holds (waiting changes are pushed first)."""
        with self._lock:
            reason = self._flush("counting vectors", force=True)
            if reason is not None:
                raise unavailable(self._settings, reason, "counting vectors") from reason
            with translated(self._settings, "counting vectors"):
                return self._open_engine().count()

    def reconcile(self, store: Store) -> None:
        """Make the collection hold exactly the store's vectors, pushing what it missed.

        Points of prompts the store does not have are deleted, prompts the store has and the
        collection lacks are upserted from the store's vectors. When Qdrant cannot be reached,
        a warning is logged and the reconciliation waits for the next write, search or
        reconciliation:
        writes go on, and searches raise ``StoreUnavailableError`` until it is done.
        """
        with self._lock:
            self._store = store
            self._pending.full_sync = True
            self._flush("syncing with the store", force=True)

    def optimize(self) -> None:
        """Push waiting changes, then build the embedded shard's HNSW index past its threshold.

        ``MemoryGraph.export()`` and ``reindex()`` call it; a server builds its index by itself.
        When Qdrant is out of reach the build waits for a later call, and nothing is raised.
        """
        with self._lock:
            if not self._release.alive:
                return
            if self._flush("building the search index", force=True) is not None:
                return
            with translated(self._settings, "building the search index"):
                self._open_engine().optimize()

    def close(self) -> None:
        """Push waiting changes if Qdrant is reachable, then give the pooled client back."""
        with self._lock:
            if not self._release.alive:
                return
            waiting = len(self._pending)
            try:
                reason = self._flush("closing", force=True)
            except RaeburnMemoryError as exc:
                reason = exc
            if reason is not None:
                _log.warning(
                    "Qdrant at %s: %d changes were not pushed before closing; the store has "
                    "them, and the next sync() (every open runs one) pushes them",
                    self._settings.where,
                    waiting,
                )
            else:
                self._claim_in_step()
            self._release()

    def _claim_in_step(self) -> None:
        """Record in an embedded shard what it holds, when this index followed every write."""
        fingerprint = self._content.known()
        writes = self._engine.writes()
        if fingerprint is None or writes != self._writes_seen:
            return
        version = self._store_version if writes == self._version_writes else None
        try:
            self._engine.claim_in_step(Claim(fingerprint, version))
        except Exception as exc:  # the next open compares the shard with the store instead
            _log.warning(
                "Qdrant at %s: recording the shard's state failed: %s", self._settings.where, exc
            )
