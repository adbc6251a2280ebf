"""The embedded engine: Qdrant Edge, Qdrant's own Rust engine, in this process.

One shard per store, in the folder beside it, created on first use with payload indexes on the
fields searches filter on. Qdrant Edge builds its HNSW search index only when asked
(``optimize``), and holds the interpreter's lock (the GIL) for the whole build, so a thread of
this process cannot run it in the background without stopping every other thread meanwhile. So
it runs only where the caller asks for upkeep, at ``export()`` and ``reindex()``, and only past
:data:`HNSW_THRESHOLD` points not yet indexed. Points outside the HNSW index are scanned
exactly, so searches are correct before, during and after a build.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import cast

import numpy as np
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    HnswIndexConfig,
    MatchAny,
    MatchValue,
    PayloadSchemaType,
    Point,
    Query,
    QueryRequest,
    RangeFloat,
    ScrollRequest,
    SearchParams,
    UpdateOperation,
)

from raeburnmemory.core.errors import StoreError
from raeburnmemory.core.model import EncoderInfo, SearchFilter, VectorPayload
from raeburnmemory.core.store import Matrix, ScoredIds, StoredVectors
from raeburnmemory.qdrant import _legacy, _pool
from raeburnmemory.qdrant._engine import Engine
from raeburnmemory.qdrant._failures import CollectionMissingError, is_unavailable
from raeburnmemory.qdrant._in_step import Claim
from raeburnmemory.qdrant._marker import (
    Found,
    check_request,
    decide,
    marker,
    recorded_encoder,
    recorded_format,
)
from raeburnmemory.qdrant._points import (
    EXTRA_INDEXED_FIELDS,
    FILTER_FIELDS,
    PROMPT_FIELD,
    AnyOf,
    Match,
    conditions,
    payload,
    point_id,
)
from raeburnmemory.qdrant._shard import ShardHandle
from raeburnmemory.qdrant.settings import QdrantSettings

#: Points not yet in the HNSW index past which it is built; below, searches scan exactly.
HNSW_THRESHOLD = 20_000
#: Candidates an HNSW search keeps (higher: better recall, slower).
HNSW_EF = 128
#: Links per node of the HNSW graph, and candidates kept while building it (Qdrant's default is
#: 100; 64 builds about a third faster, and recall@10 stays above 0.95 at 100,000 prompts).
HNSW_M = 16
HNSW_EF_CONSTRUCT = 64
#: Points upserted since the last flush past which an upsert ends by flushing the shard.
FLUSH_EVERY = 10_000
#: Points per update call (Qdrant Edge takes a whole batch in one call, with no request limit).
EDGE_BATCH = 2048
#: Point ids per page when listing the shard.
SCROLL_PAGE = 50_000

_log = logging.getLogger("raeburnmemory.qdrant")

_SCHEMAS = {"keyword": PayloadSchemaType.Keyword, "float": PayloadSchemaType.Float}


def edge_points(
    ids: Sequence[str], point_ids: Sequence[str], matrix: Matrix, payloads: Sequence[VectorPayload]
) -> list[Point]:
    """Qdrant Edge points for prompts, each row of ``matrix`` (native, aligned, C-contiguous
    float32) read in place.

    A row goes in as a memoryview: Qdrant Edge reads its floats one by one either way, and this
    spares building a list of Python floats first (about half the cost of a point).
    """
    return [
        Point(pid, cast("list[float]", memoryview(row)), payload(prompt, item))
        for prompt, pid, row, item in zip(ids, point_ids, matrix, payloads, strict=True)
    ]


def to_filter(flt: SearchFilter | None) -> Filter | None:
    """The Qdrant Edge filter for a search filter, or ``None`` when it lets everything through."""
    found = conditions(flt)
    if not found:
        return None
    return Filter(
        must=[
            FieldCondition(key=item.field, match=MatchValue(item.value))
            if isinstance(item, Match)
            else FieldCondition(key=item.field, match=MatchAny(list(item.values)))
            if isinstance(item, AnyOf)
            else FieldCondition(key=item.field, range=RangeFloat(gte=item.gte, lte=item.lte))
            for item in found
        ]
    )


class EdgeEngine(Engine):
    """A store's shard, through the process's pooled handle on it."""

    exclusive = True

    def __init__(self, settings: QdrantSettings) -> None:
        super().__init__(settings)
        self._lease = _pool.acquire(settings)
        self._unflushed = 0

    @contextlib.contextmanager
    def _handle(self) -> Iterator[ShardHandle]:
        self._lease.reopen_if_closed()
        with self._lease.lock:
            yield self._lease.shard

    @contextlib.contextmanager
    def _shard(self) -> Iterator[EdgeShard]:
        with self._handle() as handle:
            shard = handle.shard()
            if shard is None:
                raise CollectionMissingError(f"{self.settings.where}: the Qdrant shard is missing")
            yield shard

    # -- the shard itself ----------------------------------------------------------------------

    def _create(self, handle: ShardHandle, dim: int, encoder: EncoderInfo | None) -> None:
        # Qdrant Edge indexes a segment once it passes its indexing threshold, in kilobytes of
        # vectors: the size of HNSW_THRESHOLD vectors of this dimension.
        threshold_kb = max(1, HNSW_THRESHOLD * dim * 4 // 1024)
        shard = handle.create(
            EdgeConfig(
                vectors=EdgeVectorParams(size=dim, distance=Distance.Cosine),
                hnsw_config=HnswIndexConfig(
                    m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=10_000
                ),
                optimizers=EdgeOptimizersConfig(indexing_threshold=threshold_kb),
                # No write-ahead log: the store is the durable copy, and every open reconciles
                # the shard with it, so what a crash takes back since the last flush is restored.
                # Without it, upserts are cheaper and opening replays nothing.
                wal_enabled=False,
            )
        )
        self._unflushed = 0
        handle.wrote()
        for field, kind in {**FILTER_FIELDS, **EXTRA_INDEXED_FIELDS}.items():
            shard.update(UpdateOperation.create_field_index(field, _SCHEMAS[kind]))
        handle.write_marker(marker(dim, encoder))

    def _found(self, handle: ShardHandle) -> Found:
        params = handle.vector_params()
        mark = handle.read_marker()
        ours = mark is not None and "raeburnmemory" in mark
        shard = None if ours else handle.shard()
        size = params.get("size")
        distance = params.get("distance")
        return Found(
            size=size if isinstance(size, int) else None,
            distance=str(distance) if distance is not None else None,
            cosine=distance == "Cosine",
            ours=ours,
            points=shard.count(CountRequest(exact=True)) if shard is not None else 0,
            encoder=recorded_encoder(mark),
            format=recorded_format(mark),
        )

    def _loads(self, handle: ShardHandle) -> bool:
        """Whether the shard opens; one that cannot be read is rebuilt from the store."""
        try:
            handle.shard()
        except StoreError:
            raise
        except Exception as exc:
            if is_unavailable(exc, self.settings):
                raise  # the disk, not the shard: try again later
            _log.warning(
                "Qdrant shard %s cannot be opened (%s): rebuilding it from the store",
                handle.path,
                exc,
            )
            return False
        return True

    def open(self, dim: int, encoder: EncoderInfo | None) -> None:
        """Make sure the shard exists (creating it, with its payload indexes) and fits."""
        check_request(dim, encoder)
        with self._handle() as handle:
            if not handle.exists() or not self._loads(handle):
                self._create(handle, dim, encoder)
            else:
                action = decide(self.settings, "shard", self._found(handle), dim, encoder)
                if action == "record":
                    handle.write_marker(marker(dim, encoder))
                elif action == "rebuild":
                    self._create(handle, dim, encoder)
                else:
                    handle.shard()
        # The store refills the shard (every open reconciles): an earlier version's copy goes.
        _legacy.retire(self.settings)

    def recreate(self, dim: int, encoder: EncoderInfo | None) -> None:
        """Delete the shard and create it empty."""
        with self._handle() as handle:
            self._create(handle, dim, encoder)

    def record_encoder(self, dim: int, encoder: EncoderInfo) -> None:
        """Write the encoder into the shard's marker."""
        with self._handle() as handle:
            handle.write_marker(marker(dim, encoder))

    def missing(self) -> bool:
        """Whether the shard is gone from the folder."""
        try:
            with self._handle() as handle:
                return not handle.exists()
        except Exception:
            return False

    # -- points --------------------------------------------------------------------------------

    def upsert(
        self,
        points: StoredVectors,
        point_ids: Sequence[str] | None = None,
    ) -> None:
        """Upsert in calls of :data:`EDGE_BATCH` points, then flush past :data:`FLUSH_EVERY`."""
        # Native, aligned float32 rows (a store may hand over rows read at any byte offset).
        ids, payloads = points.ids, points.payloads
        matrix = np.require(points.vectors, np.float32, ("C_CONTIGUOUS", "ALIGNED"))
        for start in range(0, len(ids), EDGE_BATCH):
            stop = start + EDGE_BATCH
            chunk = ids[start:stop]
            batch = edge_points(
                chunk,
                [point_id(pid) for pid in chunk] if point_ids is None else point_ids[start:stop],
                matrix[start:stop],
                payloads[start:stop],
            )
            with self._handle() as handle, self._shard() as shard:
                handle.wrote()
                shard.update(UpdateOperation.upsert_points(batch))
                self._unflushed += len(batch)
        if self._unflushed >= FLUSH_EVERY:
            # Once per call, not every FLUSH_EVERY points: a flush costs little CPU but waits
            # for the disk (about 0.4 s on a busy machine, whatever it writes), and the store,
            # not the shard, is what a crash must not lose.
            self.flush()
            self._unflushed = 0

    def delete(self, point_ids: Sequence[str]) -> None:
        """Delete in calls of :data:`EDGE_BATCH` ids."""
        for start in range(0, len(point_ids), EDGE_BATCH):
            chunk = list(point_ids[start : start + EDGE_BATCH])
            with self._handle() as handle, self._shard() as shard:
                handle.wrote()
                shard.update(UpdateOperation.delete_points(chunk))  # type: ignore[arg-type]

    def point_ids(self) -> set[str]:
        """Every point id, page by page."""
        found: set[str] = set()
        offset = None
        while True:
            request = ScrollRequest(
                offset=offset, limit=SCROLL_PAGE, with_payload=False, with_vector=False
            )
            with self._shard() as shard:
                records, offset = shard.scroll(request)
            found.update(str(record.id) for record in records)
            if offset is None:
                return found

    def search(self, vector: Matrix, k: int, flt: SearchFilter | None) -> ScoredIds:
        """A query with the filter run inside the shard, on its payload indexes."""
        request = QueryRequest(
            limit=k,
            query=Query.Nearest(vector.tolist()),
            filter=to_filter(flt),
            with_payload=[PROMPT_FIELD],
            params=SearchParams(hnsw_ef=HNSW_EF),
        )
        with self._shard() as shard:
            points = shard.query(request)
        return [(str((point.payload or {})[PROMPT_FIELD]), float(point.score)) for point in points]

    def count(self) -> int:
        """The exact point count."""
        with self._shard() as shard:
            return int(shard.count(CountRequest(exact=True)))

    # -- upkeep --------------------------------------------------------------------------------

    def unindexed(self) -> int:
        """How many points the HNSW index does not cover yet (searches scan them)."""
        with self._shard() as shard:
            info = shard.info()
            return max(0, int(info.points_count) - int(info.indexed_vectors_count))

    def optimize(self) -> None:
        """Build the HNSW index over what it lacks when that passes :data:`HNSW_THRESHOLD`."""
        if self.unindexed() < HNSW_THRESHOLD:
            return
        with self._shard() as shard:
            shard.optimize()
            shard.flush()

    def flush(self) -> None:
        """Write what the shard holds in memory to its segments."""
        with self._shard() as shard:
            shard.flush()

    def writes(self) -> int:
        """How many writes the shard has taken in this process (every index sharing it)."""
        return self._lease.shard.writes

    def in_step_claim(self) -> Claim | None:
        """What the shard's marker records it was closed in step with, if anything."""
        with self._handle() as handle:
            return handle.claim()

    def claim_in_step(self, claim: Claim) -> None:
        """Flush the shard, then record in its marker that it holds exactly those rows."""
        with self._handle() as handle:
            handle.set_claim(claim)

    def reopen_if_closed(self) -> None:
        """Take the shard again after it was closed (``StoreLockedError`` if someone else has)."""
        self._lease.reopen_if_closed()

    def release(self) -> None:
        """Give the pooled shard back (the last user flushes and closes it)."""
        self._lease.release()
