"""How prompts become Qdrant points, and search filters become Qdrant filters.

Qdrant accepts only unsigned integers and UUIDs as point ids, so a prompt id is mapped to a
name-based UUID (the same prompt id gives the same point on every host) and kept in the payload,
beside the fields searches filter on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

from qdrant_client import models

from raeburnmemory.core.model import SearchFilter, VectorPayload
from raeburnmemory.core.store import Matrix

#: Namespace of the name-based UUIDs that identify prompts' points.
POINT_NAMESPACE = uuid.UUID("6a0f6b1e-6d1c-5b7e-9a57-52aeb0a1e3d7")
#: Payload fields: the prompt id, and the ones searches filter on (with their index types).
PROMPT_FIELD = "prompt_id"
FILTER_FIELDS: dict[str, models.PayloadSchemaType] = {
    "session_id": models.PayloadSchemaType.KEYWORD,
    "agent_id": models.PayloadSchemaType.KEYWORD,
    "timestamp": models.PayloadSchemaType.FLOAT,
}


def point_id(prompt_id: str) -> str:
    """The point id of a prompt: a UUID derived from its id."""
    return str(uuid.uuid5(POINT_NAMESPACE, prompt_id))


def payload(prompt_id: str, item: VectorPayload) -> dict[str, object]:
    """What a prompt's point carries beside its vector."""
    return {
        PROMPT_FIELD: prompt_id,
        "session_id": item.session_id,
        "agent_id": item.agent_id,
        "timestamp": float(item.timestamp),
    }


def to_filter(flt: SearchFilter | None) -> models.Filter | None:
    """The Qdrant filter for a search filter, or ``None`` when it lets everything through."""
    if flt is None or flt.is_empty:
        return None
    must: list[models.Condition] = []
    for key, value in (("session_id", flt.session_id), ("agent_id", flt.agent_id)):
        if value is not None:
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=value)))
    if flt.since is not None or flt.until is not None:
        must.append(
            models.FieldCondition(key="timestamp", range=models.Range(gte=flt.since, lte=flt.until))
        )
    return models.Filter(must=must)


def batches(
    ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload], size: int
) -> Iterator[models.Batch]:
    """Upsert requests of at most ``size`` points each."""
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield models.Batch(
            ids=[point_id(pid) for pid in chunk],
            vectors=vectors[start : start + size].tolist(),
            payloads=[
                payload(pid, item)
                for pid, item in zip(chunk, payloads[start : start + size], strict=True)
            ],
        )
