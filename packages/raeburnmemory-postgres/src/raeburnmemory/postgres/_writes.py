"""The SQL of the PostgreSQL store's writes, each run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from raeburnmemory.core import checks
from raeburnmemory.core.model import ContentKey, EncoderInfo, Interaction
from raeburnmemory.core.store import ChangeKind, Matrix, WriteMode
from raeburnmemory.postgres._changes import ChangeFeed
from raeburnmemory.postgres._rows import COLUMNS, COPY_TYPES, copy_row, encode_vectors, interaction
from raeburnmemory.postgres._schema import (
    create_vector_index,
    create_vector_tables,
    has_vector_tables,
    read_encoder,
    swap_vector_tables,
)

__all__ = [
    "VECTOR_COLUMNS",
    "classify",
    "copy_vectors",
    "delete_rows",
    "links_of",
    "replace_all_vectors",
    "to_replace",
    "write_rows",
]

#: The columns of ``vectors`` and ``pending_vectors``, in order.
VECTOR_COLUMNS = "prompt_id, session_id, agent_id, ts, embedding"


def classify(conn: psycopg.Connection[Any], items: list[Interaction]) -> checks.NewItems:
    """The batch sorted against the stored interactions that share a prompt or response id."""
    stored, owners = _stored_keys(conn, items)
    return checks.classify_new(items, stored.get, owners.get)


def to_replace(
    conn: psycopg.Connection[Any], items: list[Interaction], rewrite: bool = False
) -> tuple[list[int], list[str]]:
    """The positions ``replace`` writes and the stored prompts they replace (``ConflictError``
    as :func:`~raeburnmemory.core.checks.positions_to_replace`)."""
    stored, owners = _stored_keys(conn, items)
    new = checks.classify_new(items, stored.get, owners.get)
    return checks.positions_to_replace(items, new, owners.get, rewrite=rewrite)


def links_of(conn: psycopg.Connection[Any], prompt_ids: list[str]) -> list[tuple[str, str, str]]:
    """The caller-made links from or to any of ``prompt_ids``, in the order they were made."""
    rows = conn.execute(
        "SELECT source, target, relation FROM links WHERE source = ANY(%s) OR target = ANY(%s) "
        "ORDER BY seq",
        (prompt_ids, prompt_ids),
    ).fetchall()
    return [(source, target, relation) for source, target, relation in rows]


def _stored_keys(
    conn: psycopg.Connection[Any], items: list[Interaction]
) -> tuple[dict[str, ContentKey], dict[str, str]]:
    """The content keys of the stored prompts the batch names, and the owners of its responses."""
    stored: dict[str, ContentKey] = {}
    owners: dict[str, str] = {}
    for row in conn.execute(
        f"SELECT {COLUMNS} FROM interactions WHERE prompt_id = ANY(%s) OR response_id = ANY(%s)",
        (
            [item.prompt_id for item in items],
            [item.response_id for item in items if item.response_id is not None],
        ),
    ):
        known = interaction(row)
        stored[known.prompt_id] = known.content_key()
        if known.response_id is not None:
            owners[known.response_id] = known.prompt_id
    return stored, owners


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


def write_rows(
    conn: psycopg.Connection[Any],
    feed: ChangeFeed,
    items: list[Interaction],
    matrix: Matrix | None,
    mode: WriteMode,
) -> list[int]:
    """Write a batch (``add``, or as ``mode`` says the store's ``replace``) in the caller's
    transaction: rows by ``COPY``, vectors to ``pending_vectors``, links of replaced prompts
    kept, changes logged; the positions written."""
    rows = [copy_row(item) for item in items]
    if matrix is not None:
        encoder = read_encoder(conn)
        checks.check_fits_encoder(matrix, encoder if has_vector_tables(conn) else None)
    kept: list[tuple[str, str, str]] = []
    if mode.replace:
        fresh, replaced = to_replace(conn, items, mode.rewrite)
        if replaced:
            kept = links_of(conn, replaced)
            delete_rows(conn, replaced)
            feed.log_change(conn, ChangeKind.DELETE, replaced, -len(replaced))
    else:
        fresh = checks.positions_to_write(classify(conn, items), mode.skip_conflicts)
    if not fresh:
        return []
    with conn.cursor().copy(f"COPY interactions ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(COPY_TYPES)
        for position in fresh:
            copy.write_row(rows[position])
    if matrix is not None:
        copy_vectors(conn, [items[p] for p in fresh], matrix[fresh])
    feed.log_change(conn, ChangeKind.ADD, [items[p].prompt_id for p in fresh], len(fresh))
    conn.cursor().executemany(
        "INSERT INTO links (source, target, relation) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        kept,
    )
    return fresh
