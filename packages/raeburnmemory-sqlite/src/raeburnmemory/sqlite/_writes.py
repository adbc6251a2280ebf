"""The SQL of the SQLite store's writes, each run inside the caller's write transaction."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import zip_longest
from typing import Any

from raeburnmemory.core import checks
from raeburnmemory.core.model import ContentKey, EncoderInfo, Interaction
from raeburnmemory.core.store import ChangeKind, Matrix
from raeburnmemory.sqlite import _vec
from raeburnmemory.sqlite._changes import ChangeLog
from raeburnmemory.sqlite._meta import add_to_meta
from raeburnmemory.sqlite._rows import (
    ROW_COLUMNS,
    ROW_WIDTH,
    chunks,
    placeholders,
    to_row,
    vector_blob,
)

__all__ = [
    "add_rows",
    "classify",
    "delete_rows",
    "insert",
    "replace_rows",
    "write_new_vectors",
]


def classify(conn: Any, items: list[Interaction]) -> checks.NewItems:
    """The batch sorted against the stored interactions that share a prompt or response id."""
    stored, owners = _stored_keys(conn, items)
    return checks.classify_new(items, stored.get, owners.get)


def add_rows(
    conn: Any,
    changes: ChangeLog,
    items: list[Interaction],
    matrix: Matrix | None,
    vec_loaded: bool,
    *,
    skip: bool,
) -> list[str]:
    """Insert the items not stored yet (``ConflictError`` on a clash, unless ``skip`` leaves
    the clashing ones out); the prompt ids written."""
    del vec_loaded  # inserted vectors reach sqlite-vec when it catches up
    fresh = checks.positions_to_write(classify(conn, items), skip)
    if fresh:
        insert(conn, changes, [(row, items[row]) for row in fresh], matrix)
    return [items[row].prompt_id for row in fresh]


def replace_rows(
    conn: Any,
    changes: ChangeLog,
    items: list[Interaction],
    matrix: Matrix | None,
    vec_loaded: bool,
    *,
    rewrite: bool = False,
) -> list[str]:
    """Put ``items`` in place of the stored interactions with their prompt ids (links kept),
    add the new ones; the prompt ids written (``ConflictError`` as ``positions_to_replace``)."""
    stored, owners = _stored_keys(conn, items)
    new = checks.classify_new(items, stored.get, owners.get)
    positions, replaced = checks.positions_to_replace(items, new, owners.get, rewrite=rewrite)
    if not positions:
        return []
    kept: list[tuple[str, str, str]] = []
    for chunk in chunks(replaced):
        marks = placeholders(len(chunk))
        kept += conn.execute(
            "SELECT source, target, relation FROM links "
            f"WHERE source IN ({marks}) OR target IN ({marks}) ORDER BY id",
            (*chunk, *chunk),
        ).fetchall()
    delete_rows(conn, changes, replaced, vec_loaded)
    insert(conn, changes, [(row, items[row]) for row in positions], matrix)
    conn.executemany(
        "INSERT OR IGNORE INTO links (source, target, relation) VALUES (?, ?, ?)", kept
    )
    return [items[row].prompt_id for row in positions]


def _stored_keys(
    conn: Any, items: list[Interaction]
) -> tuple[dict[str, ContentKey], dict[str, str]]:
    """The content keys of the stored prompts the batch names, and the owners of its responses."""
    stored: dict[str, ContentKey] = {}
    owners: dict[str, str] = {}
    prompt_ids = list({item.prompt_id: None for item in items})
    response_ids = list({item.response_id: None for item in items if item.has_response})
    for prompts, responses in zip_longest(chunks(prompt_ids), chunks(response_ids)):
        prompts, responses = prompts or [], responses or []
        wanted = [
            f"{column} IN ({placeholders(len(ids))})"
            for column, ids in (("prompt_id", prompts), ("response_id", responses))
            if ids  # an empty IN () would make SQLite scan the whole index
        ]
        # The columns in the order of Interaction.content_key().
        for row in conn.execute(
            "SELECT prompt_id, prompt_text, response_id, response_text, agent_id, session_id "
            f"FROM interactions WHERE {' OR '.join(wanted)}",
            (*prompts, *responses),
        ):
            stored[row[0]] = tuple(row)
            owners[row[2]] = row[0]
    return stored, owners


def insert(
    conn: Any,
    changes: ChangeLog,
    fresh: list[tuple[int, Interaction]],
    matrix: Matrix | None,
) -> None:
    """Insert the ``(row of matrix, interaction)`` pairs, their vectors and change rows."""
    start = conn.execute(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'interactions'), 0),"
        " COALESCE((SELECT MAX(seq) FROM interactions), 0))"
    ).fetchone()[0]
    seqs = [start + 1 + n for n in range(len(fresh))]
    conn.executemany(
        f"INSERT INTO interactions ({ROW_COLUMNS}) VALUES ({placeholders(ROW_WIDTH)})",
        [to_row(seq, item) for seq, (_, item) in zip(seqs, fresh, strict=True)],
    )
    if matrix is not None:
        blobs = [vector_blob(matrix[row]) for row, _ in fresh]
        conn.executemany(
            "INSERT INTO vectors (seq, vector) VALUES (?, ?)", zip(seqs, blobs, strict=True)
        )
    add_to_meta(conn, "interactions", len(fresh))
    changes.log_change(conn, ChangeKind.ADD, (item.prompt_id for _, item in fresh))


def delete_rows(conn: Any, changes: ChangeLog, wanted: list[str], vec_loaded: bool) -> list[str]:
    """Delete the stored ones of ``wanted`` with their vectors and links; the ids deleted."""
    found: dict[str, int] = {}
    for chunk in chunks(wanted):
        found.update(
            conn.execute(
                "SELECT prompt_id, seq FROM interactions "
                f"WHERE prompt_id IN ({placeholders(len(chunk))})",
                tuple(chunk),
            ).fetchall()
        )
    removed = [pid for pid in wanted if pid in found]
    if not removed:
        return []
    seqs = [(found[pid],) for pid in removed]
    conn.executemany("DELETE FROM interactions WHERE seq = ?", seqs)
    conn.executemany("DELETE FROM vectors WHERE seq = ?", seqs)
    conn.executemany(
        "DELETE FROM links WHERE source = ?1 OR target = ?1", ((pid,) for pid in removed)
    )
    _vec.delete(conn, [seq for (seq,) in seqs], vec_loaded)
    add_to_meta(conn, "interactions", -len(removed))
    changes.log_change(conn, ChangeKind.DELETE, removed)
    return removed


def write_new_vectors(
    conn: Any,
    changes: ChangeLog,
    batches: Iterable[tuple[list[str], Matrix]],
    info: EncoderInfo,
) -> None:
    """Replace every stored vector by the batches' (prompts they leave out keep none), and log
    a reset: readers start over."""
    conn.execute("DELETE FROM vectors")
    for ids, vectors in batches:
        matrix = checks.vectors_for_ids(ids, vectors, info.dim)
        rows = {pid: row for row, pid in enumerate(ids)}
        for chunk in chunks(ids):
            found = conn.execute(
                "SELECT prompt_id, seq FROM interactions "
                f"WHERE prompt_id IN ({placeholders(len(chunk))})",
                tuple(chunk),
            ).fetchall()
            conn.executemany(
                "INSERT OR REPLACE INTO vectors (seq, vector) VALUES (?, ?)",
                [(seq, vector_blob(matrix[rows[pid]])) for pid, seq in found],
            )
    changes.log_change(conn, ChangeKind.RESET, [None])
