"""Listing and counting interactions in SQL: the store's filters, metadata filters and positions.

Time order is ``ts, prompt_id`` with prompt ids compared in the ``"C"`` collation (byte by byte in
UTF-8, the order of code points), as Python compares the prompt ids of a :class:`Position`,
whatever the database's own collation.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
from psycopg import sql

from raeburnmemory.core.listing import ListQuery, Position, micros
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.sessions import SessionPosition, SessionSummary
from raeburnmemory.postgres._rows import COLUMNS, interaction
from raeburnmemory.postgres._where import where_sql

__all__ = ["PostgresListing"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ORDER = {
    False: sql.SQL('ts ASC, prompt_id COLLATE "C" ASC'),
    True: sql.SQL('ts DESC, prompt_id COLLATE "C" DESC'),
}


def _conditions(query: ListQuery) -> tuple[list[sql.Composable], dict[str, Any]]:
    """The conditions of ``query`` (all must hold) and their named parameters."""
    parts: list[sql.Composable] = []
    params: dict[str, Any] = {}
    for name, condition, value in (
        ("session_id", "session_id = %(session_id)s", query.session_id),
        ("agent_id", "agent_id = %(agent_id)s", query.agent_id),
        ("since", "ts >= %(since)s", query.since),
        ("until", "ts <= %(until)s", query.until),
    ):
        if value is not None:
            parts.append(sql.SQL(condition))
            params[name] = value
    if query.where is not None:
        text, values = where_sql(query.where)
        parts.append(text)
        params.update(values)
    return parts, params


def _where_clause(parts: list[sql.Composable]) -> sql.Composable:
    if not parts:
        return sql.SQL("")
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(parts)


class PostgresListing:
    """The listing methods of :class:`~raeburnmemory.postgres.store.PostgresStore`, in SQL."""

    _connection: Callable[[], AbstractContextManager[psycopg.Connection[Any]]]

    def _select_page(
        self, query: ListQuery, after: Position | None, limit: int, descending: bool
    ) -> list[Interaction]:
        """Interactions passing ``query`` after ``after``, in time order (one SQL query)."""
        parts, params = _conditions(query)
        if after is not None:
            parts.append(
                sql.SQL(
                    '(ts, prompt_id COLLATE "C") {} (%(after_ts)s, %(after_id)s COLLATE "C")'
                ).format(sql.SQL("<" if descending else ">"))
            )
            params["after_ts"] = _EPOCH + timedelta(microseconds=after.micros)
            params["after_id"] = after.prompt_id
        params["limit"] = limit
        statement = sql.SQL("SELECT {} FROM interactions {} ORDER BY {} LIMIT %(limit)s").format(
            sql.SQL(COLUMNS), _where_clause(parts), _ORDER[descending]
        )
        with self._connection() as conn:
            return [interaction(row) for row in conn.execute(statement, params)]

    def _count_selected(self, query: ListQuery) -> int:
        """How many interactions pass ``query`` (one SQL query)."""
        parts, params = _conditions(query)
        statement = sql.SQL("SELECT count(*) FROM interactions {}").format(_where_clause(parts))
        with self._connection() as conn:
            row = conn.execute(statement, params).fetchone()
        return int(row[0]) if row else 0

    def matching_ids(self, query: ListQuery) -> list[str]:
        """The prompt ids of the interactions passing ``query``, in insertion order."""
        parts, params = _conditions(query)
        statement = sql.SQL("SELECT prompt_id FROM interactions {} ORDER BY seq").format(
            _where_clause(parts)
        )
        with self._connection() as conn:
            return [row[0] for row in conn.execute(statement, params)]

    def session_summaries(
        self, query: ListQuery, after: SessionPosition | None, limit: int
    ) -> list[SessionSummary]:
        """Session summaries of the interactions passing ``query``, grouped in SQL, newest
        last activity first (session ids compared byte by byte, as Python compares them)."""
        parts, params = _conditions(query)
        having = sql.SQL("")
        if after is not None:
            having = sql.SQL(
                'HAVING (max(ts), session_id COLLATE "C") '
                '< (%(after_ts)s, %(after_id)s COLLATE "C")'
            )
            params["after_ts"] = _EPOCH + timedelta(microseconds=after.last_micros)
            params["after_id"] = after.session_id
        params["limit"] = limit
        statement = sql.SQL(
            "SELECT session_id, count(*), min(ts), max(ts), array_agg(DISTINCT agent_id) "
            "FROM interactions {} GROUP BY session_id {} "
            'ORDER BY max(ts) DESC, session_id COLLATE "C" DESC LIMIT %(limit)s'
        ).format(_where_clause(parts), having)
        with self._connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        return [
            SessionSummary(
                session_id=session_id,
                interactions=int(count),
                first=_utc(first),
                last=_utc(last),
                agents=tuple(sorted(agents)),
            )
            for session_id, count, first, last, agents in rows
        ]


def _utc(moment: datetime) -> datetime:
    """A timestamp read from the database as an aware UTC datetime, to the microsecond."""
    return _EPOCH + timedelta(microseconds=micros(moment.astimezone(timezone.utc)))
