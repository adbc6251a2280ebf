"""Session summaries: one line per session, newest last activity first, paged with cursors.

A :class:`SessionSummary` aggregates the interactions of one session that pass a
:class:`~raeburnmemory.core.listing.ListQuery` (agent and time filters): how many there are,
the earliest and latest timestamps and the agents that answered. An overview lists summaries by
``last`` (newest first), then session id (descending), so each page ends at a
:class:`SessionPosition`.

Paging stays stable while other processes write: the first page fixes a **horizon**, the latest
timestamp the overview saw, and every later page aggregates only interactions up to it. A
record added meanwhile with a later timestamp (the default timestamp is the moment of recording)
therefore moves no session from one page to another; it shows in the next overview.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from raeburnmemory.core._cursors import CURSOR_VERSION, seal, unseal
from raeburnmemory.core.errors import InvalidCursorError
from raeburnmemory.core.listing import ListQuery, micros
from raeburnmemory.core.model import Interaction

__all__ = [
    "SessionCursor",
    "SessionPosition",
    "SessionSummary",
    "SessionsPage",
    "decode_session_cursor",
    "encode_session_cursor",
    "moment_of",
    "summarize",
    "summarize_rows",
    "within_horizon",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def moment_of(microseconds: int) -> datetime:
    """The aware UTC datetime of a count of microseconds since the POSIX epoch."""
    return _EPOCH + timedelta(microseconds=microseconds)


@dataclass(frozen=True)
class SessionSummary:
    """One session at a glance: its id, how many interactions it holds, the timestamps of the
    earliest (``first``) and latest (``last``) of them, and the ids of its agents, sorted."""

    session_id: str
    interactions: int
    first: datetime
    last: datetime
    agents: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values (times in ISO 8601)."""
        return {
            "session_id": self.session_id,
            "interactions": self.interactions,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "agents": list(self.agents),
        }


@dataclass(frozen=True, order=True)
class SessionPosition:
    """Where an overview stands: a session's latest timestamp (microseconds) and its id."""

    last_micros: int
    session_id: str

    @classmethod
    def of(cls, summary: SessionSummary) -> SessionPosition:
        """The position of a summary in overview order."""
        return cls(micros(summary.last), summary.session_id)


@dataclass
class SessionsPage:
    """One page of a session overview: its summaries and the cursor of the next page
    (``None`` after the last page)."""

    items: list[SessionSummary] = field(default_factory=list)
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[SessionSummary]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class SessionCursor:
    """What a session overview cursor holds: the horizon and the position of the page's end."""

    horizon_micros: int
    position: SessionPosition


def within_horizon(query: ListQuery, horizon_micros: int | None) -> ListQuery:
    """``query`` with its ``until`` bound lowered to the horizon, if there is one."""
    if horizon_micros is None:
        return query
    bound = query.until_micros
    if bound is not None and bound <= horizon_micros:
        return query
    return replace(query, until=moment_of(horizon_micros))


def summarize_rows(
    rows: Iterable[tuple[str, str, int]], after: SessionPosition | None, limit: int
) -> list[SessionSummary]:
    """The first ``limit`` session summaries of ``rows`` (session id, agent id, timestamp in
    microseconds: one per interaction), newest last activity first, strictly after ``after``."""
    counts: dict[str, int] = {}
    firsts: dict[str, int] = {}
    lasts: dict[str, int] = {}
    agents: dict[str, set[str]] = {}
    for session_id, agent_id, moment in rows:  # the hot loop of an overview: kept plain
        last = lasts.get(session_id)
        if last is None:
            counts[session_id] = 1
            firsts[session_id] = lasts[session_id] = moment
            agents[session_id] = {agent_id}
            continue
        counts[session_id] += 1
        if moment > last:
            lasts[session_id] = moment
        elif moment < firsts[session_id]:
            firsts[session_id] = moment
        agents[session_id].add(agent_id)
    positions = (SessionPosition(last, sid) for sid, last in lasts.items())
    chosen = heapq.nlargest(limit, (p for p in positions if after is None or p < after))
    return [
        SessionSummary(
            session_id=position.session_id,
            interactions=counts[position.session_id],
            first=moment_of(firsts[position.session_id]),
            last=moment_of(position.last_micros),
            agents=tuple(sorted(agents[position.session_id])),
        )
        for position in chosen
    ]


def summarize(
    items: Iterable[Interaction], query: ListQuery, after: SessionPosition | None, limit: int
) -> list[SessionSummary]:
    """The first ``limit`` session summaries of the ``items`` passing ``query``, newest last
    activity first, strictly after ``after``, by brute force."""
    rows = (
        (item.session_id, item.agent_id, micros(item.timestamp))
        for item in items
        if query.matches(item)
    )
    return summarize_rows(rows, after, limit)


def _fingerprint(query: ListQuery) -> str:
    parts = [query.agent_id, query.since_micros, query.until_micros]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:16]


_SALT = b"raeburnmemory-sessions:"


def encode_session_cursor(query: ListQuery, cursor: SessionCursor) -> str:
    """The opaque cursor of the overview page after ``cursor.position``."""
    position = cursor.position
    return seal(
        _SALT,
        [
            CURSOR_VERSION,
            "sessions",
            _fingerprint(query),
            cursor.horizon_micros,
            position.last_micros,
            position.session_id,
        ],
    )


def decode_session_cursor(cursor: object, query: ListQuery) -> SessionCursor:
    """What an overview cursor stands for (``InvalidCursorError`` if it was altered, or came
    from an overview with other filters, or from another kind of listing)."""
    altered = "was altered, cut short or belongs to another listing"
    version, kind, fingerprint, horizon, last, session_id = unseal(cursor, _SALT, 6, altered)
    valid = isinstance(horizon, int) and isinstance(last, int) and isinstance(session_id, str)
    if version != CURSOR_VERSION or kind != "sessions" or not valid:
        raise InvalidCursorError("cursor was made by another version of raeburnmemory")
    if fingerprint != _fingerprint(query):
        raise InvalidCursorError("cursor belongs to a session overview with other filters")
    return SessionCursor(horizon, SessionPosition(last, session_id))
