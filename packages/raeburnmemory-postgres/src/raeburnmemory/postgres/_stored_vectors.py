"""Reading the PostgreSQL store's prompt vectors back, indexed and pending alike."""

from __future__ import annotations

from typing import Any

import psycopg

from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import StoredVectors
from raeburnmemory.postgres._rows import RawVectorLoader, decode_vectors
from raeburnmemory.postgres._schema import has_vector_tables, read_encoder
from raeburnmemory.postgres._writes import VECTOR_COLUMNS

__all__ = ["stored_vectors"]


def stored_vectors(conn: psycopg.Connection[Any], where: str, params: Any) -> StoredVectors:
    """The vectors with their ids and payloads in insertion order; ``where`` filters on ``v``
    (the vectors) and ``i`` (interactions)."""
    info = read_encoder(conn)
    if info is None or not has_vector_tables(conn):
        return StoredVectors()
    cursor = conn.cursor(binary=True)
    cursor.adapters.register_loader(conn.adapters.types["vector"].oid, RawVectorLoader)
    rows = cursor.execute(
        f"SELECT v.prompt_id, v.session_id, v.agent_id, v.ts, v.embedding FROM "
        f"(SELECT {VECTOR_COLUMNS} FROM vectors UNION ALL "
        f"SELECT {VECTOR_COLUMNS} FROM pending_vectors) v "
        f"JOIN interactions i ON i.prompt_id = v.prompt_id {where} ORDER BY i.seq",
        params,
    ).fetchall()
    return StoredVectors(
        ids=[row[0] for row in rows],
        vectors=decode_vectors([row[4] for row in rows], info.dim),
        payloads=[VectorPayload(row[1], row[2], row[3].timestamp()) for row in rows],
    )
