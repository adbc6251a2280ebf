"""Reading the SQLite store's prompt vectors back, with their ids and payloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import Matrix, StoreChanges, StoredVectors
from raeburnmemory.sqlite._meta import read_encoder
from raeburnmemory.sqlite._rows import chunks, matrix_from_blobs, placeholders

__all__ = ["changes_of", "vectors_where"]


def vectors_where(conn: Any, where: str, params: Sequence[Any]) -> StoredVectors:
    """The vectors of the recorded encoder's dimension, in insertion order; ``where`` adds
    ``AND ...`` conditions on ``i`` (interactions) and ``v`` (vectors)."""
    info = read_encoder(conn)
    dim = info.dim if info is not None else 0
    cursor = conn.execute(
        "SELECT i.prompt_id, i.session_id, i.agent_id, i.ts, v.vector FROM vectors v "
        f"JOIN interactions i ON i.seq = v.seq WHERE length(v.vector) = ? {where} "
        "ORDER BY v.seq",
        (4 * dim, *params),
    )
    ids: list[str] = []
    payloads: list[VectorPayload] = []
    parts: list[Matrix] = []
    while chunk := cursor.fetchmany(4096):
        ids.extend(row[0] for row in chunk)
        payloads.extend(VectorPayload(row[1], row[2], row[3]) for row in chunk)
        parts.append(matrix_from_blobs([row[4] for row in chunk], dim))
    matrix = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
    return StoredVectors(ids, matrix, payloads)


def changes_of(conn: Any, touched: list[str]) -> StoreChanges:
    """The vectors of the touched prompts still stored; the others were removed."""
    parts = [
        vectors_where(conn, f"AND i.prompt_id IN ({placeholders(len(chunk))})", chunk)
        for chunk in chunks(touched)
    ]
    added = StoredVectors(
        [pid for part in parts for pid in part.ids],
        np.concatenate([part.vectors for part in parts]),
        [payload for part in parts for payload in part.payloads],
    )
    present = {
        row[0]
        for chunk in chunks(touched)
        for row in conn.execute(
            f"SELECT prompt_id FROM interactions WHERE prompt_id IN ({placeholders(len(chunk))})",
            tuple(chunk),
        )
    }
    return StoreChanges(added=added, removed=[pid for pid in touched if pid not in present])
