"""Listing and counting interactions in SQL: the store's filters, metadata filters and positions.

Time order is ``ts_us, prompt_id``: SQLite compares text byte by byte in UTF-8, which is the
order of code points, as Python compares the prompt ids of a :class:`Position`.
"""

from __future__ import annotations

import json
from typing import Any

from raeburnmemory.core.listing import ListQuery, Position
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.sessions import SessionPosition, SessionSummary, moment_of
from raeburnmemory.sqlite._metadata_columns import SQLiteMetadataColumns
from raeburnmemory.sqlite._rows import INTERACTION_COLUMNS, from_row
from raeburnmemory.sqlite._transactions import Transactions
from raeburnmemory.sqlite._where import register, where_sql

__all__ = ["SQLiteListing", "count_matching", "matching_ids", "page", "session_summaries"]


def _conditions(query: ListQuery) -> tuple[list[str], list[Any]]:
    """The SQL conditions of ``query`` (all must hold) and their parameters, in order."""
    parts: list[str] = []
    params: list[Any] = []
    for condition, value in (
        ("session_id = ?", query.session_id),
        ("agent_id = ?", query.agent_id),
        ("ts_us >= ?", query.since_micros),
        ("ts_us <= ?", query.until_micros),
    ):
        if value is not None:
            parts.append(condition)
            params.append(value)
    if query.where is not None:
        text, values = where_sql(query.where, "interactions.metadata")
        parts.append(text)
        params.extend(values)
    return parts, params


def _where_clause(parts: list[str]) -> str:
    return ("WHERE " + " AND ".join(parts)) if parts else ""


def page(
    conn: Any, query: ListQuery, after: Position | None, limit: int, descending: bool
) -> list[Interaction]:
    """Up to ``limit`` interactions passing ``query`` after ``after``, in time order."""
    register(conn)
    parts, params = _conditions(query)
    if after is not None:
        parts.append(f"(ts_us, prompt_id) {'<' if descending else '>'} (?, ?)")
        params += [after.micros, after.prompt_id]
    way = "DESC" if descending else "ASC"
    rows = conn.execute(
        f"SELECT {INTERACTION_COLUMNS} FROM interactions {_where_clause(parts)} "
        f"ORDER BY ts_us {way}, prompt_id {way} LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [from_row(row) for row in rows]


def count_matching(conn: Any, query: ListQuery) -> int:
    """How many interactions pass ``query``."""
    register(conn)
    parts, params = _conditions(query)
    row = conn.execute(
        f"SELECT COUNT(*) FROM interactions {_where_clause(parts)}", tuple(params)
    ).fetchone()
    return int(row[0])


def matching_ids(conn: Any, query: ListQuery) -> list[str]:
    """The prompt ids of the interactions passing ``query``, in insertion order."""
    register(conn)
    parts, params = _conditions(query)
    rows = conn.execute(
        f"SELECT prompt_id FROM interactions {_where_clause(parts)} ORDER BY seq", tuple(params)
    ).fetchall()
    return [row[0] for row in rows]


def session_summaries(
    conn: Any, query: ListQuery, after: SessionPosition | None, limit: int
) -> list[SessionSummary]:
    """Up to ``limit`` session summaries of the interactions passing ``query``, newest last
    activity first, after ``after`` (one grouping query)."""
    register(conn)
    parts, params = _conditions(query)
    having = ""
    if after is not None:
        having = "HAVING (MAX(ts_us), session_id) < (?, ?)"
        params += [after.last_micros, after.session_id]
    rows = conn.execute(
        "SELECT session_id, COUNT(*), MIN(ts_us), MAX(ts_us), json_group_array(DISTINCT agent_id) "
        f"FROM interactions {_where_clause(parts)} GROUP BY session_id {having} "
        "ORDER BY MAX(ts_us) DESC, session_id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [
        SessionSummary(
            session_id=session_id,
            interactions=int(count),
            first=moment_of(int(first)),
            last=moment_of(int(last)),
            agents=tuple(sorted(json.loads(agents))),
        )
        for session_id, count, first, last, agents in rows
    ]


class SQLiteListing:
    """The listing methods of :class:`~raeburnmemory.sqlite.store.SQLiteStore`, in SQL."""

    _transactions: Transactions
    _metadata_columns: SQLiteMetadataColumns | None = None

    def _select_page(
        self, query: ListQuery, after: Position | None, limit: int, descending: bool
    ) -> list[Interaction]:
        """Interactions passing ``query`` after ``after``, in time order (one SQL query)."""
        with self._transactions.connection() as conn:
            return page(conn, query, after, limit, descending)

    def _count_selected(self, query: ListQuery) -> int:
        """How many interactions pass ``query`` (one SQL query)."""
        with self._transactions.connection() as conn:
            return count_matching(conn, query)

    def matching_ids(self, query: ListQuery) -> list[str]:
        """The prompt ids of the interactions passing ``query``, in insertion order.

        A metadata filter alone is answered from column arrays in memory while the database
        does not change (:class:`~raeburnmemory.sqlite._metadata_columns.SQLiteMetadataColumns`),
        else in SQL.
        """
        with self._transactions.connection() as conn:
            if query.where is not None and query == ListQuery(where=query.where):
                if self._metadata_columns is None:
                    self._metadata_columns = SQLiteMetadataColumns()
                found = self._metadata_columns.matching(conn, query.where)
                if found is not None:
                    return found
            return matching_ids(conn, query)

    def session_summaries(
        self, query: ListQuery, after: SessionPosition | None, limit: int
    ) -> list[SessionSummary]:
        """Session summaries of the interactions passing ``query``, grouped in SQL."""
        with self._transactions.connection() as conn:
            return session_summaries(conn, query, after, limit)
