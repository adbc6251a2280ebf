"""MemorySessions: an overview of the sessions, one summary each, newest activity first."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from raeburnmemory.core.listing import ListQuery, check_limit, micros
from raeburnmemory.core.memory._expiry import Expired
from raeburnmemory.core.memory._in_thread import in_thread
from raeburnmemory.core.memory._views import MemoryViews
from raeburnmemory.core.sessions import (
    SessionCursor,
    SessionPosition,
    SessionsPage,
    SessionSummary,
    decode_session_cursor,
    encode_session_cursor,
    summarize,
    within_horizon,
)

if TYPE_CHECKING:
    from raeburnmemory.core.store import Store

__all__ = ["MemorySessions"]


def _summaries(
    store: Store, query: ListQuery, after: SessionPosition | None, limit: int
) -> list[SessionSummary]:
    """The store's summaries, without the interactions that expired: a session they touch is
    summarized again from its interactions still alive (and left out if none is)."""
    expired = Expired(store)
    touched = {
        item.session_id for item in store.get_many(sorted(expired.ids)) if query.matches(item)
    }
    if not touched:
        return store.session_summaries(query, after, limit)
    kept = [
        summary
        for summary in store.session_summaries(query, after, limit + len(touched))
        if summary.session_id not in touched
    ]
    for session_id in touched:
        kept += summarize(expired.keep(store.session(session_id)), query, after, 1)
    return heapq.nlargest(limit, kept, key=SessionPosition.of)


class MemorySessions(MemoryViews):
    """The session overview of :class:`~raeburnmemory.core.memory.MemoryGraph`."""

    def session_overview(
        self,
        *,
        agent_id: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> SessionsPage:
        """One page of session summaries (:class:`~raeburnmemory.core.sessions.SessionSummary`:
        id, number of interactions, first and last timestamps, agents), the session with the
        newest last activity first.

        ``agent_id``, ``since`` and ``until`` (inclusive) select the interactions summarized; a
        session none of whose interactions pass is left out. Pass the page's ``next_cursor`` as
        ``cursor`` (with the same filters) for the next page; it is ``None`` after the last one.
        Later pages summarize only interactions up to the latest timestamp the first page saw,
        so records added meanwhile (timestamped now) move no session between pages.
        """
        query = ListQuery.build(None, agent_id, since, until)
        size = check_limit(limit)
        state = None if cursor is None else decode_session_cursor(cursor, query)
        horizon = None if state is None else state.horizon_micros
        after = None if state is None else state.position
        with self._lock:
            self._catch_up()
            items = _summaries(self.store, within_horizon(query, horizon), after, size + 1)
        if horizon is None and items:
            horizon = micros(items[0].last)  # the newest activity there is
        if len(items) <= size or horizon is None:
            return SessionsPage(items, None)
        items = items[:size]
        state = SessionCursor(horizon, SessionPosition.of(items[-1]))
        return SessionsPage(items, encode_session_cursor(query, state))

    async def session_overview_async(self, **kwargs: Any) -> SessionsPage:
        """:meth:`session_overview` in a worker thread."""
        return await in_thread(self.session_overview, **kwargs)
