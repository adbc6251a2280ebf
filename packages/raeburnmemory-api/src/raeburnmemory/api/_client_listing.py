"""The listing methods of both clients: list, count, update, forget and the session overview."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from raeburnmemory.api._client_calls import Call, Moment, T
from raeburnmemory.api._listing_calls import UNCHANGED, Filters, ListingCalls
from raeburnmemory.core.listing import Page
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.sessions import SessionsPage

__all__ = ["AsyncListingMethods", "ListingMethods"]


class ListingMethods:
    """What :class:`~raeburnmemory.api.client.MemoryClient` does with the listing routes."""

    def _run(self, call: Call[T]) -> T:  # pragma: no cover - the client's own
        raise NotImplementedError

    def interactions(
        self,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        where: Mapping[str, Any] | None = None,
        limit: int = 100,
        cursor: str | None = None,
        order: str = "asc",
    ) -> Page:
        """One page of the stored interactions that pass every filter, in time order
        (``.items``, and ``.next_cursor`` to pass as ``cursor`` for the next page)."""
        return self._run(
            ListingCalls.interactions(
                Filters(session_id, agent_id, since, until, where), limit, cursor, order
            )
        )

    def count(
        self,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        where: Mapping[str, Any] | None = None,
    ) -> int:
        """How many stored interactions pass every filter given."""
        return self._run(ListingCalls.count(Filters(session_id, agent_id, since, until, where)))

    def update_interaction(
        self,
        prompt_id: str,
        *,
        response: Any = UNCHANGED,
        metadata: Any = UNCHANGED,
        prompt_text: Any = UNCHANGED,
    ) -> Interaction:
        """Change parts of a stored interaction; returns it as stored now."""
        return self._run(
            ListingCalls.update_interaction(
                prompt_id, response=response, metadata=metadata, prompt_text=prompt_text
            )
        )

    def forget(
        self,
        *,
        where: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        before: Moment = None,
        everything: bool = False,
    ) -> int:
        """Delete every interaction that passes every filter given; returns how many (the
        server refuses with no filter unless ``everything=True``; needs the admin scope)."""
        return self._run(ListingCalls.forget(where, session_id, agent_id, before, everything))

    def session_overview(
        self,
        *,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> SessionsPage:
        """One page of session summaries, the session with the newest activity first."""
        return self._run(ListingCalls.session_overview(agent_id, since, until, limit, cursor))


class AsyncListingMethods:
    """The asyncio twins of :class:`ListingMethods`, for
    :class:`~raeburnmemory.api.client.AsyncMemoryClient`."""

    def _run(self, call: Call[T]) -> Awaitable[T]:  # pragma: no cover - the client's own
        raise NotImplementedError

    async def interactions(
        self,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        where: Mapping[str, Any] | None = None,
        limit: int = 100,
        cursor: str | None = None,
        order: str = "asc",
    ) -> Page:
        """One page of the stored interactions that pass every filter, in time order."""
        return await self._run(
            ListingCalls.interactions(
                Filters(session_id, agent_id, since, until, where), limit, cursor, order
            )
        )

    async def count(
        self,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        where: Mapping[str, Any] | None = None,
    ) -> int:
        """How many stored interactions pass every filter given."""
        return await self._run(
            ListingCalls.count(Filters(session_id, agent_id, since, until, where))
        )

    async def update_interaction(
        self,
        prompt_id: str,
        *,
        response: Any = UNCHANGED,
        metadata: Any = UNCHANGED,
        prompt_text: Any = UNCHANGED,
    ) -> Interaction:
        """Change parts of a stored interaction; returns it as stored now."""
        return await self._run(
            ListingCalls.update_interaction(
                prompt_id, response=response, metadata=metadata, prompt_text=prompt_text
            )
        )

    async def forget(
        self,
        *,
        where: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        before: Moment = None,
        everything: bool = False,
    ) -> int:
        """Delete every interaction that passes every filter given; returns how many."""
        return await self._run(ListingCalls.forget(where, session_id, agent_id, before, everything))

    async def session_overview(
        self,
        *,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> SessionsPage:
        """One page of session summaries, the session with the newest activity first."""
        return await self._run(ListingCalls.session_overview(agent_id, since, until, limit, cursor))
