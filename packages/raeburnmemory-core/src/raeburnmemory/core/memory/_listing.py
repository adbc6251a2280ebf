"""MemoryListing: list, count and forget the stored interactions that pass a filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.listing import (
    ListQuery,
    Order,
    Page,
    Position,
    check_limit,
    check_order,
    decode_cursor,
    encode_cursor,
)
from raeburnmemory.core.memory._expiry import Expired
from raeburnmemory.core.memory._in_thread import in_thread
from raeburnmemory.core.memory._views import MemoryViews
from raeburnmemory.core.model import parse_timestamp
from raeburnmemory.core.where import Where

__all__ = ["MemoryListing"]

_MICROSECOND = timedelta(microseconds=1)


class MemoryListing(MemoryViews):
    """The listing side of :class:`~raeburnmemory.core.memory.MemoryGraph`: pages of stored
    interactions in time order, counts, and forgetting every interaction a filter selects."""

    def interactions(
        self,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Any = None,
        until: Any = None,
        where: Where | Mapping[str, Any] | None = None,
        limit: int = 100,
        cursor: str | None = None,
        order: Order = "asc",
    ) -> Page:
        """One page of the stored interactions that pass every filter given, in time order
        (timestamp, then prompt id; ``order="desc"`` for newest first).

        ``since`` and ``until`` are inclusive (datetimes, ISO 8601 text or POSIX seconds);
        ``where`` is a metadata filter. Pass the page's ``next_cursor`` as ``cursor`` (with the
        same filters and order) for the next page; it is ``None`` after the last one. A cursor
        stays valid while other processes write: every interaction that existed when the
        listing began, and still does, comes exactly once.
        """
        query = ListQuery.build(session_id, agent_id, since, until, where)
        descending = check_order(order)
        size = check_limit(limit)
        after = None if cursor is None else decode_cursor(cursor, query, descending)
        with self._lock:
            self._catch_up()
            expired = Expired(self.store)
            items = self.store.page(query, after, size + 1 + len(expired), descending=descending)
        items = expired.keep(items)
        if len(items) <= size:
            return Page(items, None)
        items = items[:size]
        return Page(items, encode_cursor(query, descending, Position.of(items[-1])))

    def count(
        self,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Any = None,
        until: Any = None,
        where: Where | Mapping[str, Any] | None = None,
    ) -> int:
        """How many stored interactions pass every filter given (the filters of
        :meth:`interactions`). With no filter, stores that keep a count answer without a scan."""
        query = ListQuery.build(session_id, agent_id, since, until, where)
        with self._lock:
            self._catch_up()
            expired = Expired(self.store)
            counted = self.store.count_matching(query)
            return counted - expired.matching(query) if expired else counted

    def forget(
        self,
        *,
        where: Where | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        before: Any = None,
        everything: bool = False,
    ) -> int:
        """Delete every interaction that passes every filter given, with its vector and links,
        in one durable step; returns how many were deleted.

        ``before`` deletes what happened strictly before that moment. With no filter at all
        it refuses (``ConfigurationError``) unless ``everything=True``, which empties the memory.
        """
        until = None if before is None else parse_timestamp(before, name="before")
        query = ListQuery.build(session_id, agent_id, None, until, where)
        if until is not None:
            if until == datetime.min.replace(tzinfo=timezone.utc):
                return 0  # nothing happened before the first moment there is
            query = replace(query, until=until - _MICROSECOND)
        if not isinstance(everything, bool):
            raise ConfigurationError("everything must be True or False")
        if query.is_empty and not everything:
            raise ConfigurationError(
                "forget() with no filter would delete every interaction; "
                "pass everything=True to do that"
            )
        with self._lock:
            self._catch_up()
            doomed = self.store.matching_ids(query)
            removed = self.store.delete(doomed) if doomed else []
            if removed:
                self._graph = None
                self._keeper.remove(removed)
            return len(removed)

    # -- async twins -----------------------------------------------------------------------------

    async def interactions_async(self, *args: Any, **kwargs: Any) -> Page:
        """:meth:`interactions` in a worker thread."""
        return await in_thread(self.interactions, *args, **kwargs)

    async def count_async(self, *args: Any, **kwargs: Any) -> int:
        """:meth:`count` in a worker thread."""
        return await in_thread(self.count, *args, **kwargs)

    async def forget_async(self, **kwargs: Any) -> int:
        """:meth:`forget` in a worker thread."""
        return await in_thread(self.forget, **kwargs)
