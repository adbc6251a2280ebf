"""The sqlite-vec index inside the database: a ``vec0`` table derived from ``vectors``.

``vectors`` (float32 blobs) is the source of truth. The ``vec_prompts`` virtual table holds the
same vectors with the session, agent and time of each prompt as metadata columns, so filters run
inside the KNN scan and ``k`` hits come back whenever ``k`` prompts pass. It uses cosine
distance; a hit's score is ``1 - distance``.

Writes do not insert into the table: a search first brings it up to date, adding every vector
stored since ``meta.vec_seq`` in one transaction, so many adds cost one index update instead
of one each. Deletes remove their rows at once. A connection without sqlite-vec cannot touch a
``vec0`` table, so its deletes mark the table stale instead (``meta.vec_synced = 0``), and the
next search rebuilds it, as it does after the vectors are replaced.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.store import Matrix, ScoredIds
from raeburnmemory.sqlite._filters import filter_sql
from raeburnmemory.sqlite._meta import get_meta, set_meta
from raeburnmemory.sqlite._rows import matrix_from_blobs, vector_blob
from raeburnmemory.sqlite._where import register

__all__ = [
    "EXACT_SCAN_ROWS",
    "MAX_K",
    "IndexState",
    "catch_up",
    "delete",
    "exact_scan",
    "mark_stale",
    "rebuild",
    "search",
    "state",
    "update",
]

VEC_TABLE = "vec_prompts"
#: The largest ``k`` a sqlite-vec KNN query accepts; larger requests scan exactly.
MAX_K = 4096
#: Filters that let at most this many prompts through are answered by an exact scan of them.
EXACT_SCAN_ROWS = 4096
_SCAN_CHUNK = 8192


class IndexState(Enum):
    """How the vec0 table stands against the stored vectors."""

    CURRENT = "current"
    BEHIND = "behind"  # vectors were added since the last catch-up
    STALE = "stale"  # missing, of another dimension, or missing deletes: rebuild it


def _exists(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (VEC_TABLE,)).fetchone()
    return row is not None


def _last_vector(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM vectors").fetchone()[0])


def state(conn: sqlite3.Connection, dim: int) -> IndexState:
    """Whether the vec0 table can answer a search for vectors of ``dim`` dimensions."""
    if (
        not _exists(conn)
        or get_meta(conn, "vec_synced") != "1"
        or get_meta(conn, "vec_dim") != str(dim)
    ):
        return IndexState.STALE
    if _last_vector(conn) > int(get_meta(conn, "vec_seq") or 0):
        return IndexState.BEHIND
    return IndexState.CURRENT


def mark_stale(conn: sqlite3.Connection) -> None:
    """Have the next search rebuild the table (in the caller's write transaction)."""
    if _exists(conn):
        set_meta(conn, "vec_synced", "0")


def _insert_from(conn: sqlite3.Connection, dim: int, after: int) -> None:
    conn.execute(
        f"INSERT INTO {VEC_TABLE} (rowid, embedding, session_id, agent_id, ts) "
        "SELECT v.seq, v.vector, i.session_id, i.agent_id, i.ts "
        "FROM vectors v JOIN interactions i ON i.seq = v.seq "
        "WHERE v.seq > ? AND length(v.vector) = ? ORDER BY v.seq",
        (after, 4 * int(dim)),
    )
    set_meta(conn, "vec_seq", str(_last_vector(conn)))


def rebuild(conn: sqlite3.Connection, dim: int) -> None:
    """Recreate the vec0 table from ``vectors`` (in the caller's write transaction)."""
    conn.execute(f"DROP TABLE IF EXISTS {VEC_TABLE}")
    conn.execute(
        f"CREATE VIRTUAL TABLE {VEC_TABLE} USING vec0 ("
        f"embedding float[{int(dim)}] distance_metric=cosine, "
        "session_id text, agent_id text, ts float)"
    )
    _insert_from(conn, dim, 0)
    set_meta(conn, "vec_dim", str(int(dim)))
    set_meta(conn, "vec_synced", "1")


def catch_up(conn: sqlite3.Connection, dim: int) -> None:
    """Add the vectors stored since the last catch-up (in the caller's write transaction)."""
    _insert_from(conn, dim, int(get_meta(conn, "vec_seq") or 0))


def update(conn: sqlite3.Connection, dim: int) -> None:
    """Catch up or rebuild, whichever the table needs (in the caller's write transaction)."""
    current = state(conn, dim)
    if current is IndexState.STALE:
        rebuild(conn, dim)
    elif current is IndexState.BEHIND:
        catch_up(conn, dim)


def delete(conn: sqlite3.Connection, seqs: Sequence[int], vec_loaded: bool) -> None:
    """Remove deleted prompts from the table, or mark it stale when this connection cannot."""
    if not _exists(conn):
        return
    if not vec_loaded:
        mark_stale(conn)
        return
    indexed = int(get_meta(conn, "vec_seq") or 0)
    conn.executemany(
        f"DELETE FROM {VEC_TABLE} WHERE rowid = ?", ((seq,) for seq in seqs if seq <= indexed)
    )


def _passing_at_most(conn: sqlite3.Connection, flt: SearchFilter, limit: int) -> bool:
    """Whether an indexed filter (session or agent) lets at most ``limit`` prompts through."""
    if flt.session_id is None and flt.agent_id is None:
        return False
    where, values = filter_sql(flt)
    row = conn.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM interactions WHERE 1 {where} LIMIT ?)",
        (*values, limit + 1),
    ).fetchone()
    return bool(row[0] <= limit)


def _knn(conn: sqlite3.Connection, query: Matrix, k: int, flt: SearchFilter) -> ScoredIds:
    where, values = filter_sql(flt)
    rows = conn.execute(
        f"WITH knn AS (SELECT rowid, distance FROM {VEC_TABLE} "
        f"WHERE embedding MATCH ? AND k = ? {where}) "
        "SELECT knn.distance, knn.rowid, i.prompt_id FROM knn "
        "JOIN interactions i ON i.seq = knn.rowid",
        (vector_blob(query), k, *values),
    ).fetchall()
    rows.sort()
    return [(pid, 1.0 - float(distance)) for distance, _, pid in rows]


def exact_scan(
    conn: sqlite3.Connection, query: Matrix, k: int, flt: SearchFilter, dim: int
) -> ScoredIds:
    """The exact top ``k`` over the stored vectors that pass ``flt``, read in chunks."""
    register(conn)
    where, values = filter_sql(flt, "i")
    cursor = conn.execute(
        "SELECT i.prompt_id, v.vector FROM interactions i JOIN vectors v ON v.seq = i.seq "
        f"WHERE length(v.vector) = ? {where} ORDER BY i.seq",
        (4 * dim, *values),
    )
    best_ids: list[str] = []
    best_scores = np.zeros(0, dtype=np.float32)
    while chunk := cursor.fetchmany(_SCAN_CHUNK):
        ids = [row[0] for row in chunk]
        scores = matrix_from_blobs([row[1] for row in chunk], dim) @ query
        merged_ids = best_ids + ids
        merged = np.concatenate([best_scores, scores.astype(np.float32)])
        keep = np.argsort(-merged, kind="stable")[:k]
        best_ids = [merged_ids[i] for i in keep]
        best_scores = merged[keep]
    return [(pid, float(score)) for pid, score in zip(best_ids, best_scores, strict=True)]


def search(
    conn: sqlite3.Connection, query: Matrix, k: int, flt: SearchFilter, dim: int
) -> ScoredIds:
    """The ``k`` nearest prompts that pass ``flt``: KNN in vec0, or an exact scan when cheaper."""
    q: Any = np.asarray(query, dtype=np.float32).reshape(dim)
    if k <= 0:
        return []
    if flt.where is not None:
        # vec0 cannot test metadata: the prompts passing the filter are scored exactly
        return exact_scan(conn, q, k, flt, dim)
    if k > MAX_K or _passing_at_most(conn, flt, EXACT_SCAN_ROWS):
        return exact_scan(conn, q, k, flt, dim)
    return _knn(conn, q, k, flt)
