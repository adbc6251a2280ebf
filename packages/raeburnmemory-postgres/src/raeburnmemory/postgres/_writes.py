"""The SQL of the PostgreSQL store's writes, each run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from raeburnmemory.core import checks
from raeburnmemory.core.model import ContentKey, EncoderInfo, Interaction
from raeburnmemory.core.store import Matrix
from raeburnmemory.postgres._rows import COLUMNS, encode_vectors, interaction
from raeburnmemory.postgres._schema import (
    create_vector_index,
    create_vector_tables,
    has_vector_tables,
    swap_vector_tables,
)

__all__ = ["VECTOR_COLUMNS", "classify", "copy_vectors", "delete_rows", "replace_all_vectors"]

#: The columns of ``vectors`` and ``pending_vectors``, in order.
VECTOR_COLUMNS = "prompt_id, session_id, agent_id, ts, embedding"


def classify(conn: psycopg.Connection[Any], items: list[Interaction]) -> checks.NewItems:
    """The batch sorted against the stored interactions that share a prompt or response id."""
    stored: dict[str, ContentKey] = {}
    owners: dict[str, str] = {}
    for row in conn.execute(
        f"SELECT {COLUMNS} FROM interactions WHERE prompt_id = ANY(%s) OR response_id = ANY(%s)",
        ([item.prompt_id for item in items], [item.response_id for item in items]),
    ):
        known = interaction(row)
        stored[known.prompt_id] = known.content_key()
        owners[known.response_id] = known.prompt_id
    return checks.classify_new(items, stored.get, owners.get)


def copy_vectors(conn: psycopg.Connection[Any], items: list[Interaction], matrix: Matrix) -> None:
    """Put the items' vectors (row for row) in ``pending_vectors`` for the indexer to take."""
    with conn.cursor().copy(
        f"COPY pending_vectors ({VECTOR_COLUMNS}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "text", "text", "timestamptz", "vector"])
        for item, blob in zip(items, encode_vectors(matrix), strict=True):
            copy.write_row((item.prompt_id, item.session_id, item.agent_id, item.timestamp, blob))


def delete_rows(conn: psycopg.Connection[Any], wanted: list[str]) -> set[str]:
    """Delete the stored ones of ``wanted`` with their vectors (links go by cascade); the ids
    deleted."""
    removed = {
        row[0]
        for row in conn.execute(
            "DELETE FROM interactions WHERE prompt_id = ANY(%s) RETURNING prompt_id", (wanted,)
        )
    }
    if removed and has_vector_tables(conn):
        gone = list(removed)
        conn.execute("LOCK TABLE vectors, pending_vectors IN ROW EXCLUSIVE MODE")
        conn.execute("DELETE FROM vectors WHERE prompt_id = ANY(%s)", (gone,))
        conn.execute("DELETE FROM pending_vectors WHERE prompt_id = ANY(%s)", (gone,))
    return removed


def replace_all_vectors(
    conn: psycopg.Connection[Any],
    batches: Iterable[tuple[list[str], Matrix]],
    info: EncoderInfo,
    *,
    had_vectors: bool,
) -> None:
    """Build the batches' vectors beside the old ones with their own index, then swap them in.

    The caller holds the store's vector lock; searches use the old tables until the commit.
    """
    if had_vectors:
        conn.execute("LOCK TABLE vectors, pending_vectors IN SHARE ROW EXCLUSIVE MODE")
    conn.execute("DROP TABLE IF EXISTS next_vectors, next_pending_vectors")
    create_vector_tables(conn, info.dim, prefix="next_")
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE new_vectors (prompt_id text, embedding vector({})) ON COMMIT DROP"
        ).format(sql.Literal(info.dim))
    )
    for ids, vectors in batches:
        matrix = checks.vectors_for_ids(ids, vectors, info.dim)
        with conn.cursor().copy(
            "COPY new_vectors (prompt_id, embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["text", "vector"])
            for pid, blob in zip(ids, encode_vectors(matrix), strict=True):
                copy.write_row((pid, blob))
    conn.execute(
        "INSERT INTO next_vectors (prompt_id, session_id, agent_id, ts, embedding) "
        "SELECT DISTINCT ON (n.prompt_id) n.prompt_id, i.session_id, i.agent_id, i.ts, "
        "n.embedding FROM new_vectors n JOIN interactions i ON i.prompt_id = n.prompt_id"
    )
    create_vector_index(conn, info.dim, prefix="next_")
    swap_vector_tables(conn, "next_")
