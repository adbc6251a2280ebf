"""The ``meta`` table: the store's small key-value settings (format, encoder, vec0 state)."""

from __future__ import annotations

import sqlite3

__all__ = ["add_to_meta", "get_meta", "set_meta"]


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
