"""Turning interactions and vectors into table rows and back."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from datetime import timezone
from typing import Any

import numpy as np
import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types.json import Json

from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.model import Agent, Interaction
from raeburnmemory.core.store import Matrix

__all__ = [
    "COLUMNS",
    "COPY_COLUMNS",
    "COPY_TYPES",
    "RawVector",
    "RawVectorDumper",
    "RawVectorLoader",
    "copy_row",
    "decode_vectors",
    "encode_vectors",
    "interaction",
    "read_agents",
]

#: Columns of ``interactions`` read back into an :class:`Interaction`, in order.
#: (The order of :class:`Interaction`'s fields.)
COLUMNS = (
    "prompt_id, prompt_text, response_id, response_text, agent_id, session_id, ts, agent_name, "
    "metadata, prompt_attrs, response_attrs, agent_attrs, expires_at"
)
#: Columns written by COPY, and their types for binary COPY.
COPY_COLUMNS = COLUMNS
COPY_TYPES = ["text"] * 6 + ["timestamptz", "text"] + ["json"] * 4 + ["timestamptz"]

_TEXT_FIELDS = (
    "prompt_id",
    "prompt_text",
    "response_id",
    "response_text",
    "agent_id",
    "session_id",
)
_JSON_FIELDS = ("metadata", "prompt_attrs", "response_attrs", "agent_attrs")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _json(item: Interaction, name: str) -> Json:
    value = dict(getattr(item, name))
    try:
        _dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInteractionError(
            f"{name} of prompt {item.prompt_id!r} is not JSON-serializable: {exc}"
        ) from None
    return Json(value, dumps=_dumps)


def copy_row(item: Interaction) -> tuple[Any, ...]:
    """The ``interactions`` row of an interaction, in :data:`COPY_COLUMNS` order."""
    for name in _TEXT_FIELDS:
        if "\x00" in (getattr(item, name) or ""):
            raise InvalidInteractionError(
                f"{name} of prompt {item.prompt_id!r} contains a NUL character, which "
                "PostgreSQL text cannot hold"
            )
    if item.agent_name is not None and "\x00" in item.agent_name:
        raise InvalidInteractionError(f"agent name of prompt {item.prompt_id!r} contains NUL")
    texts = tuple(getattr(item, name) for name in _TEXT_FIELDS)
    documents = tuple(_json(item, name) for name in _JSON_FIELDS)
    return (*texts, item.timestamp, item.agent_name, *documents, item.expires_at)


def interaction(row: Sequence[Any]) -> Interaction:
    """An :class:`Interaction` from a row selected with :data:`COLUMNS`."""
    prompt_id, prompt_text, response_id, response_text, agent_id, session_id, moment = row[:7]
    metadata, prompt_attrs, response_attrs, agent_attrs = (doc or {} for doc in row[8:12])
    return Interaction(
        prompt_id,
        prompt_text,
        response_id,
        response_text,
        agent_id,
        session_id,
        moment.astimezone(timezone.utc),
        row[7],
        metadata,
        prompt_attrs,
        response_attrs,
        agent_attrs,
        None if row[12] is None else row[12].astimezone(timezone.utc),
    )


class RawVector(bytes):
    """A vector already in pgvector's binary wire format."""


class RawVectorDumper(Dumper):
    """Passes :class:`RawVector` bytes through (subclassed with the ``vector`` oid)."""

    format = Format.BINARY

    def dump(self, obj: Any) -> Buffer:
        """The bytes as they are."""
        return bytes(obj)


class RawVectorLoader(Loader):
    """Keeps a ``vector`` value in binary form, for :func:`decode_vectors`."""

    format = Format.BINARY

    def load(self, data: Buffer) -> bytes:
        """The bytes as they are."""
        return bytes(data)


def encode_vectors(vectors: Matrix) -> list[RawVector]:
    """pgvector's binary form of each row: dimension, unused, big-endian float32 values."""
    dim = int(vectors.shape[1])
    head = struct.pack(">HH", dim, 0)
    big = np.ascontiguousarray(vectors, dtype=">f4")
    return [RawVector(head + row.tobytes()) for row in big]


def decode_vectors(blobs: Sequence[bytes], dim: int) -> Matrix:
    """A float32 matrix from vectors in pgvector's binary form."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    flat = np.frombuffer(b"".join(blobs), dtype=">f4").reshape(len(blobs), dim + 1)
    return np.ascontiguousarray(flat[:, 1:], dtype=np.float32)


# The latest name and the latest attributes given, each found through interactions_agent.
_AGENTS = (
    "SELECT g.agent_id, (SELECT agent_name FROM interactions i "
    "WHERE i.agent_id = g.agent_id AND agent_name IS NOT NULL ORDER BY seq DESC LIMIT 1), "
    "(SELECT agent_attrs FROM interactions i WHERE i.agent_id = g.agent_id "
    "AND agent_attrs IS NOT NULL AND agent_attrs::jsonb <> '{}'::jsonb "
    "ORDER BY seq DESC LIMIT 1) "
    "FROM (SELECT agent_id, min(seq) AS first FROM interactions GROUP BY agent_id) g "
    "ORDER BY g.first"
)


def read_agents(conn: psycopg.Connection[Any]) -> list[Agent]:
    """Every agent in order of first appearance; a record that gives no name (or no
    attributes) leaves the earlier ones known."""
    rows = conn.execute(_AGENTS).fetchall()
    return [Agent(agent_id, name, attrs or {}) for agent_id, name, attrs in rows]
