"""The PostgreSQL store's lookups: keyword search, the expired prompts and a few prompts'
vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import psycopg

from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.store import ScoredIds, StoredVectors
from raeburnmemory.postgres import _search
from raeburnmemory.postgres._stored_vectors import stored_vectors

__all__ = ["PostgresLookups"]


class PostgresLookups:
    """The lookup methods of :class:`~raeburnmemory.postgres.PostgresStore`."""

    _connection: Callable[[], AbstractContextManager[psycopg.Connection[Any]]]

    def expired_ids(self, now: datetime) -> list[str]:
        """The prompt ids whose ``expires_at`` is ``now`` or earlier (by the expiry index)."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT prompt_id FROM interactions WHERE expires_at <= %s ORDER BY seq", (now,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def vectors_of(self, prompt_ids: Sequence[str]) -> StoredVectors:
        """The stored vectors of those of ``prompt_ids`` that have one, in insertion order."""
        wanted = list(dict.fromkeys(prompt_ids))
        if not wanted:
            return StoredVectors()
        with self._connection() as conn:
            return stored_vectors(conn, "WHERE i.prompt_id = ANY(%s)", (wanted,))

    def keyword_search(self, text: str, k: int, flt: SearchFilter) -> ScoredIds:
        """Prompts whose prompt or response text best matches ``text`` (PostgreSQL full text)."""
        with self._connection() as conn:
            return _search.keyword_search(conn, text, k, flt)
