"""Python clients of the HTTP API, with the method names of ``MemoryGraph``.

``MemoryClient`` is synchronous and ``AsyncMemoryClient`` its asyncio twin; both use httpx.
An error answer of the server is raised as the same exception ``MemoryGraph`` would raise
(``NotFoundError``, ``ConflictError``, ``NoEmbeddingsError``, ...); failures of the HTTP layer
raise the classes of :mod:`raeburnmemory.api.errors`, and a server that cannot be reached
raises ``StoreUnavailableError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

import httpx

from raeburnmemory.api._client_calls import (
    DEFAULT_BATCH_SIZE,
    Call,
    Calls,
    ClientBase,
    Moment,
    Record,
    Search,
    T,
)
from raeburnmemory.api._client_listing import AsyncListingMethods, ListingMethods
from raeburnmemory.core.model import Interaction, SearchHit

__all__ = ["AsyncMemoryClient", "MemoryClient"]


class MemoryClient(ListingMethods, ClientBase, AbstractContextManager["MemoryClient"]):
    """A synchronous client of a raeburnmemory server at ``url``.

    ``api_key`` is sent as ``Authorization: Bearer <key>``. ``http_client`` lets you pass a
    configured ``httpx.Client`` (or a test client); it is then not closed by :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(url, api_key, batch_size)
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(timeout=timeout)

    def _run(self, call: Call[T]) -> T:
        try:
            response = self._client.send(self._request(call, self._client))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return self._result(call, response)

    def add_interaction(
        self,
        prompt: str | Mapping[str, Any],
        response: str | Mapping[str, Any] | None = None,
        agent: str | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        timestamp: Moment = None,
        expires_at: Moment = None,
        on_conflict: str = "error",
    ) -> str:
        """Record one interaction, as :meth:`MemoryGraph.add_interaction` does; returns the
        prompt id (generated when the prompt has none)."""
        fields = Record(prompt, response, agent, session_id, metadata, timestamp, expires_at)
        return self._run(Calls.add_interaction(fields, on_conflict))

    def batch_add(
        self,
        interactions: Iterable[Mapping[str, Any] | Interaction],
        *,
        on_conflict: str = "error",
    ) -> list[str]:
        """Record many interactions, ``batch_size`` a request; returns the ids newly added
        (with ``on_conflict="replace"``, the ids written)."""
        calls = Calls.batch_add(interactions, self.batch_size, on_conflict)
        return [prompt_id for call in calls for prompt_id in self._run(call)]

    def search(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        min_score: float | None = None,
        mode: str = "vector",
        where: Mapping[str, Any] | None = None,
    ) -> list[SearchHit]:
        """The prompts most similar to ``text``, best first, with scores and texts."""
        query = Search(text, top_k, session_id, agent_id, since, until, min_score, mode, where)
        return self._run(Calls.search(query))

    def get_similar_prompts(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        min_score: float | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """The ids of the prompts most similar to ``text``, best first."""
        hits = self.search(
            text,
            top_k,
            session_id=session_id,
            agent_id=agent_id,
            min_score=min_score,
            where=where,
        )
        return [hit.id for hit in hits]

    def get_interaction(self, prompt_id: str) -> Interaction:
        """One interaction by its prompt id (``NotFoundError`` if there is none)."""
        return self._run(Calls.get_interaction(prompt_id))

    def get_session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (``NotFoundError`` if there is none)."""
        return self._run(Calls.get_session(session_id))

    def sessions(self) -> list[str]:
        """The ids of every session."""
        return self._run(Calls.sessions())

    def delete_interaction(self, prompt_id: str) -> None:
        """Remove one interaction (``NotFoundError`` if there is none)."""
        self._run(Calls.delete_interaction(prompt_id))

    def delete_session(self, session_id: str) -> list[str]:
        """Remove a session; returns the prompt ids removed."""
        return self._run(Calls.delete_session(session_id))

    def stats(self) -> dict[str, Any]:
        """Counts and the backends the server uses."""
        result: dict[str, Any] = self._run(Calls.simple("/memory/stats"))
        return result

    def node_link_data(self, session_id: str | None = None) -> dict[str, Any]:
        """The node-link JSON of the graph, or of one session."""
        result: dict[str, Any] = self._run(Calls.simple("/memory/graph", session_id))
        return result

    def health(self) -> dict[str, Any]:
        """The server's health answer (needs no API key)."""
        result: dict[str, Any] = self._run(Calls.simple("/healthz"))
        return result

    def close(self) -> None:
        """Close the connections (unless the httpx client was given)."""
        if self._owns_client:
            self._client.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncMemoryClient(
    AsyncListingMethods, ClientBase, AbstractAsyncContextManager["AsyncMemoryClient"]
):
    """The asyncio twin of :class:`MemoryClient`: the same methods, awaited."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(url, api_key, batch_size)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout)

    async def _run(self, call: Call[T]) -> T:
        try:
            response = await self._client.send(self._request(call, self._client))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return self._result(call, response)

    async def add_interaction(
        self,
        prompt: str | Mapping[str, Any],
        response: str | Mapping[str, Any] | None = None,
        agent: str | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        timestamp: Moment = None,
        expires_at: Moment = None,
        on_conflict: str = "error",
    ) -> str:
        """Record one interaction, as :meth:`MemoryGraph.add_interaction` does; returns the
        prompt id (generated when the prompt has none)."""
        fields = Record(prompt, response, agent, session_id, metadata, timestamp, expires_at)
        return await self._run(Calls.add_interaction(fields, on_conflict))

    async def batch_add(
        self,
        interactions: Iterable[Mapping[str, Any] | Interaction],
        *,
        on_conflict: str = "error",
    ) -> list[str]:
        """Record many interactions, ``batch_size`` a request; returns the ids newly added
        (with ``on_conflict="replace"``, the ids written)."""
        added: list[str] = []
        for call in Calls.batch_add(interactions, self.batch_size, on_conflict):
            chunk = await self._run(call)
            added.extend(chunk)
        return added

    async def search(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Moment = None,
        until: Moment = None,
        min_score: float | None = None,
        mode: str = "vector",
        where: Mapping[str, Any] | None = None,
    ) -> list[SearchHit]:
        """The prompts most similar to ``text``, best first, with scores and texts."""
        query = Search(text, top_k, session_id, agent_id, since, until, min_score, mode, where)
        return await self._run(Calls.search(query))

    async def get_similar_prompts(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        min_score: float | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """The ids of the prompts most similar to ``text``, best first."""
        hits = await self.search(
            text,
            top_k,
            session_id=session_id,
            agent_id=agent_id,
            min_score=min_score,
            where=where,
        )
        return [hit.id for hit in hits]

    async def get_interaction(self, prompt_id: str) -> Interaction:
        """One interaction by its prompt id (``NotFoundError`` if there is none)."""
        return await self._run(Calls.get_interaction(prompt_id))

    async def get_session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (``NotFoundError`` if there is none)."""
        return await self._run(Calls.get_session(session_id))

    async def sessions(self) -> list[str]:
        """The ids of every session."""
        return await self._run(Calls.sessions())

    async def delete_interaction(self, prompt_id: str) -> None:
        """Remove one interaction (``NotFoundError`` if there is none)."""
        await self._run(Calls.delete_interaction(prompt_id))

    async def delete_session(self, session_id: str) -> list[str]:
        """Remove a session; returns the prompt ids removed."""
        return await self._run(Calls.delete_session(session_id))

    async def stats(self) -> dict[str, Any]:
        """Counts and the backends the server uses."""
        result: dict[str, Any] = await self._run(Calls.simple("/memory/stats"))
        return result

    async def node_link_data(self, session_id: str | None = None) -> dict[str, Any]:
        """The node-link JSON of the graph, or of one session."""
        result: dict[str, Any] = await self._run(Calls.simple("/memory/graph", session_id))
        return result

    async def health(self) -> dict[str, Any]:
        """The server's health answer (needs no API key)."""
        result: dict[str, Any] = await self._run(Calls.simple("/healthz"))
        return result

    async def aclose(self) -> None:
        """Close the connections (unless the httpx client was given)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
