"""Creating the collection of a store, and checking an existing one before using it.

A collection made by raeburnmemory carries a marker in its metadata with the encoder of its
vectors. It is derived data: when it disagrees with the store (another dimension, another
encoder, because the store was reindexed while this collection was out of reach) it is dropped
and rebuilt from the store. A collection that raeburnmemory did not make is never dropped: when
it does not fit, opening fails with a message naming both sides.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from raeburnmemory.core.errors import ConfigurationError, EmbeddingMismatchError
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.qdrant._points import FILTER_FIELDS, PROMPT_FIELD, point_id
from raeburnmemory.qdrant._pool import tune_local_storage
from raeburnmemory.qdrant.settings import QdrantSettings

_log = logging.getLogger("raeburnmemory.qdrant")

#: Metadata key marking collections made by raeburnmemory.
MARKER = "raeburnmemory"


def marker(dim: int, encoder: EncoderInfo | None) -> dict[str, Any]:
    """The collection metadata recording who made it and with which encoder."""
    return {MARKER: {"format": 1, "dim": dim, "encoder": encoder.name if encoder else None}}


def create(
    client: QdrantClient, settings: QdrantSettings, dim: int, encoder: EncoderInfo | None
) -> None:
    """Create the (empty) collection, with its payload indexes on a server."""
    client.create_collection(
        settings.collection,
        vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
        metadata=marker(dim, encoder),
    )
    if settings.local:
        tune_local_storage(client)
        return  # payload indexes do nothing in local mode, and say so in a warning
    for field, schema in FILTER_FIELDS.items():
        client.create_payload_index(settings.collection, field, field_schema=schema, wait=True)


def recreate(
    client: QdrantClient, settings: QdrantSettings, dim: int, encoder: EncoderInfo | None
) -> None:
    """Drop the collection (if any) and create it empty."""
    client.delete_collection(settings.collection)
    create(client, settings, dim, encoder)


def record_encoder(
    client: QdrantClient, settings: QdrantSettings, dim: int, encoder: EncoderInfo | None
) -> None:
    """Write the store's encoder into the collection's marker (servers without metadata: skip)."""
    with contextlib.suppress(UnexpectedResponse):
        client.update_collection(settings.collection, metadata=marker(dim, encoder))


def _vector_params(info: models.CollectionInfo) -> tuple[int | None, models.Distance | None]:
    vectors = info.config.params.vectors
    if isinstance(vectors, models.VectorParams):
        return vectors.size, vectors.distance
    return None, None  # named vectors: not a layout raeburnmemory makes


def _looks_ours(
    client: QdrantClient, settings: QdrantSettings, info: models.CollectionInfo
) -> bool:
    metadata = info.config.metadata or {}
    if MARKER in metadata:
        return True
    # Servers without collection metadata: recognise our points by their ids.
    records, _ = client.scroll(settings.collection, limit=1, with_payload=[PROMPT_FIELD])
    if not records:
        return False
    prompt = (records[0].payload or {}).get(PROMPT_FIELD)
    return isinstance(prompt, str) and str(records[0].id) == point_id(prompt)


def open_collection(
    client: QdrantClient, settings: QdrantSettings, dim: int, encoder: EncoderInfo | None
) -> None:
    """Make sure the store's collection exists and fits vectors of ``dim`` from ``encoder``.

    ``encoder`` is what the store records (``None`` while it holds no vectors).
    """
    if encoder is not None and encoder.dim != dim:
        raise EmbeddingMismatchError(encoder.name, encoder.dim, "the requested index", dim)
    if not client.collection_exists(settings.collection):
        create(client, settings, dim, encoder)
        return
    info = client.get_collection(settings.collection)
    size, distance = _vector_params(info)
    fits = size == dim and distance == models.Distance.COSINE
    if not _looks_ours(client, settings, info):
        if not fits:
            raise ConfigurationError(
                f"Qdrant collection {settings.collection!r} at {settings.where} holds "
                f"{size or 'named'}-dimensional vectors by {distance or 'several'} distance, but "
                f"this store needs {dim} dimensions by cosine; it was not made by raeburnmemory, "
                "so it is left alone: choose another `collection`"
            )
        if info.points_count:
            raise ConfigurationError(
                f"Qdrant collection {settings.collection!r} at {settings.where} holds "
                f"{info.points_count} points not made by raeburnmemory; choose another `collection`"
            )
        record_encoder(client, settings, dim, encoder)
        return
    recorded = ((info.config.metadata or {}).get(MARKER) or {}).get("encoder")
    stale_encoder = encoder is not None and recorded is not None and recorded != encoder.name
    if not fits or stale_encoder:
        _log.warning(
            "Qdrant collection %r at %s holds vectors of %s (%s dimensions) but the store's are "
            "from %s (%d dimensions): rebuilding it from the store",
            settings.collection,
            settings.where,
            recorded or "another encoder",
            size,
            encoder.name if encoder else "no encoder yet",
            dim,
        )
        recreate(client, settings, dim, encoder)
