"""The ``meta`` table: the store's small key-value settings (format, encoder, vec0 state)."""

from __future__ import annotations

import sqlite3

from raeburnmemory.core.model import EncoderInfo

__all__ = ["add_to_meta", "get_meta", "read_encoder", "set_meta", "write_encoder"]


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """The value stored under ``key``, or ``None``."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key`` (in the caller's write transaction)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def add_to_meta(conn: sqlite3.Connection, key: str, amount: int) -> None:
    """Add ``amount`` to the counter stored under ``key`` (in the caller's write transaction)."""
    conn.execute(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT) WHERE key = ?",
        (int(amount), key),
    )


def read_encoder(conn: sqlite3.Connection) -> EncoderInfo | None:
    """The encoder record, or ``None`` before the first one."""
    rows = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN ('encoder_name', 'encoder_dim')"
        ).fetchall()
    )
    if "encoder_name" not in rows or "encoder_dim" not in rows:
        return None
    return EncoderInfo(rows["encoder_name"], int(rows["encoder_dim"]))


def write_encoder(conn: sqlite3.Connection, info: EncoderInfo) -> None:
    """Record the encoder (in the caller's write transaction)."""
    set_meta(conn, "encoder_name", info.name)
    set_meta(conn, "encoder_dim", str(int(info.dim)))
