"""The SQLite store's lookups: keyword search, the expired prompts and a few prompts' vectors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.store import ScoredIds, StoredVectors
from raeburnmemory.sqlite import _fts
from raeburnmemory.sqlite._rows import micros
from raeburnmemory.sqlite._stored_vectors import changes_of
from raeburnmemory.sqlite._transactions import Transactions

__all__ = ["SQLiteLookups"]


class SQLiteLookups:
    """The lookup methods of :class:`~raeburnmemory.sqlite.SQLiteStore`."""

    _transactions: Transactions

    def expired_ids(self, now: datetime) -> list[str]:
        """The prompt ids whose ``expires_at`` is ``now`` or earlier (by the expiry index)."""
        with self._transactions.read() as conn:
            rows = conn.execute(
                "SELECT prompt_id FROM interactions WHERE expires_us IS NOT NULL "
                "AND expires_us <= ? ORDER BY seq",
                (micros(now),),
            ).fetchall()
        return [row[0] for row in rows]

    def vectors_of(self, prompt_ids: Sequence[str]) -> StoredVectors:
        """The stored vectors of those of ``prompt_ids`` that have one, in insertion order."""
        wanted = list(dict.fromkeys(prompt_ids))
        if not wanted:
            return StoredVectors()
        with self._transactions.read() as conn:
            return changes_of(conn, wanted).added

    def _index_keywords(self) -> None:
        """Bring the keyword index up to date with every stored interaction."""
        with self._transactions.connection() as conn:
            if _fts.is_current(conn):
                return
        with self._transactions.write() as (wconn, _):
            _fts.catch_up(wconn)

    def keyword_search(self, text: str, k: int, flt: SearchFilter) -> ScoredIds:
        """Prompts whose prompt or response text best matches ``text`` (FTS5, bm25), best first.

        Interactions written since the last keyword search are indexed first.
        """
        self._index_keywords()
        with self._transactions.connection() as conn:
            return _fts.keyword_search(conn, text, k, flt)
