"""How prompts become Qdrant points, and search filters become conditions, for either engine.

Qdrant accepts only unsigned integers and UUIDs as point ids, so a prompt id is mapped to a
name-based UUID (the same prompt id gives the same point on every host) and kept in the payload,
beside the fields searches filter on. Filters are described here once, engine-neutral; the
server and the embedded engine each translate the description into their own filter types.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Literal

from raeburnmemory.core.model import SearchFilter, VectorPayload

#: Namespace of the name-based UUIDs that identify prompts' points.
POINT_NAMESPACE = uuid.UUID("6a0f6b1e-6d1c-5b7e-9a57-52aeb0a1e3d7")
#: Payload fields: the prompt id, and the ones searches filter on (with their index types).
PROMPT_FIELD = "prompt_id"
FieldType = Literal["keyword", "float"]
FILTER_FIELDS: dict[str, FieldType] = {
    "session_id": "keyword",
    "agent_id": "keyword",
    "timestamp": "float",
}
#: Payload fields indexed in collections created from now on, beside :data:`FILTER_FIELDS`
#: (kept apart: those name the collection layout). The prompt id serves metadata filters, which
#: arrive as the ids of the prompts that pass them.
EXTRA_INDEXED_FIELDS: dict[str, FieldType] = {PROMPT_FIELD: "keyword"}


@dataclass(frozen=True)
class Match:
    """The payload field ``field`` equals ``value``."""

    field: str
    value: str


@dataclass(frozen=True)
class Range:
    """The payload field ``field`` lies between ``gte`` and ``lte`` (inclusive; ``None``: open)."""

    field: str
    gte: float | None
    lte: float | None


@dataclass(frozen=True)
class AnyOf:
    """The payload field ``field`` equals one of ``values``."""

    field: str
    values: tuple[str, ...]


Condition = Match | Range | AnyOf


_NAMESPACE_BYTES = POINT_NAMESPACE.bytes


def point_id(prompt_id: str) -> str:
    """The point id of a prompt: the name-based UUID (version 5) of its id.

    The same value as ``str(uuid.uuid5(POINT_NAMESPACE, prompt_id))``, computed without building
    UUID objects: every open lists the store's prompts through it.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + prompt_id.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def payload(prompt_id: str, item: VectorPayload) -> dict[str, object]:
    """What a prompt's point carries beside its vector."""
    return {
        PROMPT_FIELD: prompt_id,
        "session_id": item.session_id,
        "agent_id": item.agent_id,
        "timestamp": float(item.timestamp),
    }


def conditions(flt: SearchFilter | None) -> list[Condition]:
    """The conditions a point must all meet to pass ``flt`` (none: everything passes)."""
    if flt is None or flt.is_empty:
        return []
    found: list[Condition] = []
    for field, value in (("session_id", flt.session_id), ("agent_id", flt.agent_id)):
        if value is not None:
            found.append(Match(field, value))
    if flt.since is not None or flt.until is not None:
        found.append(Range("timestamp", flt.since, flt.until))
    if flt.prompt_ids is not None:  # the prompts whose metadata passes the filter's ``where``
        found.append(AnyOf(PROMPT_FIELD, tuple(sorted(flt.prompt_ids))))
    return found
