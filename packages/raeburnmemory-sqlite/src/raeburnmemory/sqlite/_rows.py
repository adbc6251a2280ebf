"""Conversions between interactions, vectors and the database's rows."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.json_text import loads
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Matrix

__all__ = [
    "CHUNK",
    "INTERACTION_COLUMNS",
    "ROW_COLUMNS",
    "ROW_WIDTH",
    "chunks",
    "from_row",
    "load_dict",
    "matrix_from_blobs",
    "micros",
    "placeholders",
    "to_row",
    "vector_blob",
]

#: The columns :func:`from_row` reads, in order.
INTERACTION_COLUMNS = (
    "prompt_id, prompt_text, response_id, response_text, agent_id, agent_name, session_id, "
    "ts_us, metadata, prompt_attrs, response_attrs, agent_attrs, expires_us"
)

#: The columns of :func:`to_row`'s tuples, in order.
ROW_COLUMNS = (
    "seq, prompt_id, prompt_text, response_id, response_text, agent_id, agent_name, session_id, "
    "ts, ts_us, metadata, prompt_attrs, response_attrs, agent_attrs, expires_us"
)
#: How many values a row of :func:`to_row` holds.
ROW_WIDTH = 15

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


#: Ids per ``IN (...)`` list.
CHUNK = 500


def placeholders(count: int) -> str:
    """``?, ?, ?`` for ``count`` parameters."""
    return ", ".join("?" * count)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of ``size`` (one ``IN (...)`` list each)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = moment.astimezone(timezone.utc) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dump(value: Mapping[str, Any], what: str, prompt_id: str) -> str:
    if not value:
        return "{}"
    try:
        return json.dumps(dict(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInteractionError(
            f"the {what} of prompt {prompt_id!r} is not JSON-serializable: {exc}"
        ) from None


def to_row(seq: int, item: Interaction) -> tuple[Any, ...]:
    """The ``interactions`` row of ``item`` (:data:`ROW_COLUMNS`); times in UTC."""
    stamp = micros(item.timestamp)
    return (
        seq,
        item.prompt_id,
        item.prompt_text,
        item.response_id,
        item.response_text,
        item.agent_id,
        item.agent_name,
        item.session_id,
        item.timestamp.timestamp(),
        stamp,
        _dump(item.metadata, "metadata", item.prompt_id),
        _dump(item.prompt_attrs, "prompt attributes", item.prompt_id),
        _dump(item.response_attrs, "response attributes", item.prompt_id),
        _dump(item.agent_attrs, "agent attributes", item.prompt_id),
        None if item.expires_at is None else micros(item.expires_at),
    )


def load_dict(text: str) -> dict[str, Any]:
    """A JSON object column as a dict."""
    if text == "{}":
        return {}
    value = loads(text)
    return value if isinstance(value, dict) else {}


def from_row(row: Sequence[Any]) -> Interaction:
    """The interaction of a row holding :data:`INTERACTION_COLUMNS`."""
    return Interaction(
        prompt_id=row[0],
        prompt_text=row[1],
        response_id=row[2],
        response_text=row[3],
        agent_id=row[4],
        agent_name=row[5],
        session_id=row[6],
        timestamp=_EPOCH + timedelta(microseconds=row[7]),
        metadata=load_dict(row[8]),
        prompt_attrs=load_dict(row[9]),
        response_attrs=load_dict(row[10]),
        agent_attrs=load_dict(row[11]),
        expires_at=None if row[12] is None else _EPOCH + timedelta(microseconds=row[12]),
    )


def vector_blob(vector: np.ndarray[Any, Any]) -> bytes:
    """A vector as the little-endian float32 bytes sqlite-vec reads."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def matrix_from_blobs(blobs: Sequence[bytes], dim: int) -> Matrix:
    """Stack float32 blobs into an ``(n, dim)`` matrix."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    flat = np.frombuffer(b"".join(blobs), dtype="<f4")
    return flat.reshape(len(blobs), -1).astype(np.float32, copy=False)
