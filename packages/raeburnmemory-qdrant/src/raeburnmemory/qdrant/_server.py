"""The engine of a Qdrant server or cluster reached by URL, through qdrant-client."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from qdrant_client import models

from raeburnmemory.core.model import EncoderInfo, SearchFilter, VectorPayload
from raeburnmemory.core.store import Matrix, ScoredIds, StoredVectors
from raeburnmemory.qdrant import _collection, _pool
from raeburnmemory.qdrant._engine import UPSERT_BATCH, Engine
from raeburnmemory.qdrant._points import (
    PROMPT_FIELD,
    AnyOf,
    Match,
    conditions,
    payload,
    point_id,
)
from raeburnmemory.qdrant.settings import QdrantSettings

#: Point ids per page when listing a collection.
SCROLL_PAGE = 10_000


def to_filter(flt: SearchFilter | None) -> models.Filter | None:
    """The qdrant-client filter for a search filter, or ``None`` when it lets everything through."""
    found = conditions(flt)
    if not found:
        return None
    must: list[models.Condition] = [
        models.FieldCondition(key=item.field, match=models.MatchValue(value=item.value))
        if isinstance(item, Match)
        else models.FieldCondition(key=item.field, match=models.MatchAny(any=list(item.values)))
        if isinstance(item, AnyOf)
        else models.FieldCondition(key=item.field, range=models.Range(gte=item.gte, lte=item.lte))
        for item in found
    ]
    return models.Filter(must=must)


def batches(
    ids: Sequence[str],
    vectors: Matrix,
    payloads: Sequence[VectorPayload],
    size: int,
    point_ids: Sequence[str] | None = None,
) -> Iterator[models.Batch]:
    """Upsert requests of at most ``size`` points each (``point_ids``: when already known)."""
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield models.Batch(
            ids=[point_id(pid) for pid in chunk]
            if point_ids is None
            else list(point_ids[start : start + size]),
            vectors=vectors[start : start + size].tolist(),
            payloads=[
                payload(pid, item)
                for pid, item in zip(chunk, payloads[start : start + size], strict=True)
            ],
        )


class ServerEngine(Engine):
    """A collection on a server, through the process's pooled client for that server."""

    def __init__(self, settings: QdrantSettings) -> None:
        super().__init__(settings)
        self._lease = _pool.acquire(settings)

    def open(self, dim: int, encoder: EncoderInfo | None) -> None:
        """Make sure the collection exists and fits (creating it with its payload indexes)."""
        _collection.open_collection(self._lease.client, self.settings, dim, encoder)

    def recreate(self, dim: int, encoder: EncoderInfo | None) -> None:
        """Drop the collection and create it empty."""
        _collection.recreate(self._lease.client, self.settings, dim, encoder)

    def record_encoder(self, dim: int, encoder: EncoderInfo) -> None:
        """Write the encoder into the collection's metadata."""
        _collection.record_encoder(self._lease.client, self.settings, dim, encoder)

    def missing(self) -> bool:
        """Whether the server says the collection is gone."""
        try:
            return not self._lease.client.collection_exists(self.settings.collection)
        except Exception:
            return False

    def upsert(
        self,
        points: StoredVectors,
        point_ids: Sequence[str] | None = None,
    ) -> None:
        """Upsert in requests of :data:`UPSERT_BATCH` points, each acknowledged."""
        for batch in batches(points.ids, points.vectors, points.payloads, UPSERT_BATCH, point_ids):
            self._lease.client.upsert(self.settings.collection, points=batch, wait=True)

    def delete(self, point_ids: Sequence[str]) -> None:
        """Delete in requests of :data:`UPSERT_BATCH` ids."""
        for start in range(0, len(point_ids), UPSERT_BATCH):
            selector = models.PointIdsList(points=list(point_ids[start : start + UPSERT_BATCH]))
            self._lease.client.delete(self.settings.collection, points_selector=selector, wait=True)

    def point_ids(self) -> set[str]:
        """Every point id, page by page (ids only: no payload to copy)."""
        found: set[str] = set()
        offset: models.ExtendedPointId | None = None
        while True:
            records, offset = self._lease.client.scroll(
                self.settings.collection,
                limit=SCROLL_PAGE,
                offset=offset,
                with_payload=False,
                with_vectors=False,
            )
            found.update(str(record.id) for record in records)
            if offset is None:
                return found

    def search(self, vector: Matrix, k: int, flt: SearchFilter | None) -> ScoredIds:
        """A query with the filter run by the server on its payload indexes."""
        response = self._lease.client.query_points(
            self.settings.collection,
            query=vector.tolist(),
            limit=k,
            query_filter=to_filter(flt),
            with_payload=[PROMPT_FIELD],
            with_vectors=False,
        )
        return [
            (str((point.payload or {})[PROMPT_FIELD]), float(point.score))
            for point in response.points
        ]

    def count(self) -> int:
        """The exact point count."""
        return int(self._lease.client.count(self.settings.collection, exact=True).count)

    def release(self) -> None:
        """Give the pooled client back."""
        self._lease.release()
