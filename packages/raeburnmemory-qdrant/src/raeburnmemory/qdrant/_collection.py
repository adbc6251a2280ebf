"""A store's collection on a Qdrant server: creating it, and checking an existing one first.

The marker goes into the collection's metadata; servers too old for collection metadata have
their collections recognised by their points' ids instead.
"""

from __future__ import annotations

import contextlib

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.qdrant._marker import MARKER, Found, check_request, decide, marker
from raeburnmemory.qdrant._marker import recorded_encoder as marker_encoder
from raeburnmemory.qdrant._marker import recorded_format as marker_format
from raeburnmemory.qdrant._points import (
    EXTRA_INDEXED_FIELDS,
    FILTER_FIELDS,
    PROMPT_FIELD,
    point_id,
)
from raeburnmemory.qdrant.settings import QdrantSettings

_SCHEMAS = {"keyword": models.PayloadSchemaType.KEYWORD, "float": models.PayloadSchemaType.FLOAT}


def create(
    client: QdrantClient, settings: QdrantSettings, dim: int, encoder: EncoderInfo | None
) -> None:
    """Create the (empty) collection, with its payload indexes."""
    client.create_collection(
        settings.collection,
        vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
        metadata=marker(dim, encoder),
    )
    for field, kind in {**FILTER_FIELDS, **EXTRA_INDEXED_FIELDS}.items():
        client.create_payload_index(
            settings.collection, field, field_schema=_SCHEMAS[kind], wait=True
        )


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


def _looks_ours(
    client: QdrantClient, settings: QdrantSettings, info: models.CollectionInfo
) -> bool:
    if MARKER in (info.config.metadata or {}):
        return True
    # Servers without collection metadata: recognise our points by their ids.
    records, _ = client.scroll(settings.collection, limit=1, with_payload=[PROMPT_FIELD])
    if not records:
        return False
    prompt = (records[0].payload or {}).get(PROMPT_FIELD)
    return isinstance(prompt, str) and str(records[0].id) == point_id(prompt)


def _found(client: QdrantClient, settings: QdrantSettings) -> Found:
    info = client.get_collection(settings.collection)
    vectors = info.config.params.vectors
    size, distance = (
        (vectors.size, vectors.distance)
        if isinstance(vectors, models.VectorParams)
        else (None, None)  # named vectors: not a layout raeburnmemory makes
    )
    return Found(
        size=size,
        distance=str(distance.value) if distance is not None else None,
        cosine=distance == models.Distance.COSINE,
        ours=_looks_ours(client, settings, info),
        points=info.points_count or 0,
        encoder=marker_encoder(info.config.metadata),
        format=marker_format(info.config.metadata),
    )


def open_collection(
    client: QdrantClient, settings: QdrantSettings, dim: int, encoder: EncoderInfo | None
) -> None:
    """Make sure the store's collection exists and fits vectors of ``dim`` from ``encoder``.

    ``encoder`` is what the store records (``None`` while it holds no vectors).
    """
    check_request(dim, encoder)
    if not client.collection_exists(settings.collection):
        create(client, settings, dim, encoder)
        return
    action = decide(settings, "collection", _found(client, settings), dim, encoder)
    if action == "record":
        record_encoder(client, settings, dim, encoder)
    elif action == "rebuild":
        recreate(client, settings, dim, encoder)
