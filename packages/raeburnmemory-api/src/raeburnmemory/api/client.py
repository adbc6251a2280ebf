"""Python clients of the HTTP API, with the method names of ``MemoryGraph``.

``MemoryClient`` is synchronous and ``AsyncMemoryClient`` its asyncio twin; both use httpx.
An error answer of the server is raised as the same exception ``MemoryGraph`` would raise
(``NotFoundError``, ``ConflictError``, ``NoEmbeddingsError``, ...); failures of the HTTP layer
raise the classes of :mod:`raeburnmemory.api.errors`, and a server that cannot be reached
raises ``StoreUnavailableError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from raeburnmemory.api.errors import error_for
from raeburnmemory.core.errors import InvalidInteractionError, StoreUnavailableError
from raeburnmemory.core.model import Interaction, SearchHit, parse_timestamp

__all__ = ["AsyncMemoryClient", "MemoryClient"]

T = TypeVar("T")
Moment = datetime | str | float | None

#: Interactions sent per request by ``batch_add``.
DEFAULT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class _Call(Generic[T]):
    """One HTTP request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    body: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)


def _segment(ident: str) -> str:
    quoted = quote(ident, safe="")
    return "%2E" * len(quoted) if quoted in (".", "..") else quoted


def _encode(payload: Any) -> bytes:
    try:
        return json.dumps(payload, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInteractionError(f"the request is not JSON-serializable: {exc}") from None


def _moment(value: Moment) -> str | float | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return parse_timestamp(value).isoformat()


def _as_fields(item: Mapping[str, Any] | Interaction) -> dict[str, Any]:
    if isinstance(item, Interaction):
        agent = {**item.agent_attrs, "id": item.agent_id}
        if item.agent_name is not None:
            agent["name"] = item.agent_name
        return {
            "prompt": {**item.prompt_attrs, "id": item.prompt_id, "text": item.prompt_text},
            "response": {**item.response_attrs, "id": item.response_id, "text": item.response_text},
            "agent": agent,
            "session_id": item.session_id,
            "metadata": dict(item.metadata),
            "timestamp": item.timestamp.isoformat(),
        }
    fields = dict(item)
    if fields.get("timestamp") is not None:
        fields["timestamp"] = _moment(fields["timestamp"])
    return fields


def _json(response: httpx.Response) -> Any:
    return response.json()


def _nothing(response: httpx.Response) -> None:
    return None


def _hit(data: Mapping[str, Any]) -> SearchHit:
    return SearchHit(
        id=data["id"],
        score=float(data["score"]),
        prompt_text=data["prompt_text"],
        response_text=data["response_text"],
        response_id=data["response_id"],
        agent_id=data["agent_id"],
        session_id=data["session_id"],
        timestamp=parse_timestamp(data["timestamp"]),
        metadata=data.get("metadata") or {},
    )


class _Calls:
    """Builds the request of each client method; the two clients only send them."""

    @staticmethod
    def add_interaction(
        prompt: Mapping[str, Any],
        response: Mapping[str, Any],
        agent: Mapping[str, Any],
        session_id: str,
        metadata: Mapping[str, Any] | None,
        timestamp: Moment,
    ) -> _Call[str]:
        body = {
            "prompt": dict(prompt),
            "response": dict(response),
            "agent": dict(agent),
            "session_id": session_id,
            "metadata": dict(metadata) if metadata is not None else None,
            "timestamp": _moment(timestamp),
        }
        return _Call(
            "POST", "/memory/interactions", lambda r: str(r.json()["prompt_id"]), _encode(body)
        )

    @staticmethod
    def batch_add(
        interactions: Iterable[Mapping[str, Any] | Interaction], batch_size: int
    ) -> list[_Call[list[str]]]:
        items = [_as_fields(item) for item in interactions]
        return [
            _Call(
                "POST",
                "/memory/interactions/batch",
                lambda r: [str(i) for i in r.json()["added"]],
                _encode({"interactions": items[start : start + batch_size]}),
            )
            for start in range(0, len(items), batch_size)
        ]

    @staticmethod
    def search(text: str, top_k: int, **filters: Any) -> _Call[list[SearchHit]]:
        body = {"text": text, "top_k": top_k}
        for name, value in filters.items():
            if value is not None:
                body[name] = _moment(value) if name in ("since", "until") else value
        return _Call(
            "POST", "/memory/similar", lambda r: [_hit(h) for h in r.json()["hits"]], _encode(body)
        )

    @staticmethod
    def get_interaction(prompt_id: str) -> _Call[Interaction]:
        return _Call(
            "GET",
            f"/memory/interactions/{_segment(prompt_id)}",
            lambda r: Interaction.from_dict(r.json()),
        )

    @staticmethod
    def get_session(session_id: str) -> _Call[list[Interaction]]:
        return _Call(
            "GET",
            f"/memory/sessions/{_segment(session_id)}",
            lambda r: [Interaction.from_dict(i) for i in r.json()["interactions"]],
        )

    @staticmethod
    def delete_interaction(prompt_id: str) -> _Call[None]:
        return _Call("DELETE", f"/memory/interactions/{_segment(prompt_id)}", _nothing)

    @staticmethod
    def delete_session(session_id: str) -> _Call[list[str]]:
        return _Call(
            "DELETE",
            f"/memory/sessions/{_segment(session_id)}",
            lambda r: [str(i) for i in r.json()["deleted"]],
        )

    @staticmethod
    def sessions() -> _Call[list[str]]:
        return _Call("GET", "/memory/sessions", lambda r: [str(s) for s in r.json()["sessions"]])

    @staticmethod
    def simple(path: str, session_id: str | None = None) -> _Call[Any]:
        params = {"session_id": session_id} if session_id is not None else {}
        return _Call("GET", path, _json, params=params)


class _Base:
    def __init__(self, url: str, api_key: str | None, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.url = url.rstrip("/")
        self.batch_size = batch_size
        self._headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def _request(self, call: _Call[Any], client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        # The client builds the request: a test client may be made by httpx2 (Starlette's
        # TestClient prefers it when installed), whose clients refuse httpx's requests.
        return client.build_request(
            call.method,
            self.url + call.path,
            params=call.params,
            content=call.body,
            headers=self._headers,
        )

    def _result(self, call: _Call[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise error_for(response.status_code, body, response.headers)
        return call.parse(response)

    def _unreachable(self, exc: httpx.TransportError) -> StoreUnavailableError:
        return StoreUnavailableError(f"cannot reach the raeburnmemory API at {self.url}: {exc}")


class MemoryClient(_Base):
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

    def _run(self, call: _Call[T]) -> T:
        try:
            response = self._client.send(self._request(call, self._client))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return self._result(call, response)

    def add_interaction(
        self,
        prompt: Mapping[str, Any],
        response: Mapping[str, Any],
        agent: Mapping[str, Any],
        session_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        timestamp: Moment = None,
    ) -> str:
        """Record one interaction; returns the prompt id."""
        return self._run(
            _Calls.add_interaction(prompt, response, agent, session_id, metadata, timestamp)
        )

    def batch_add(self, interactions: Iterable[Mapping[str, Any] | Interaction]) -> list[str]:
        """Record many interactions, ``batch_size`` a request; returns the ids newly added."""
        calls = _Calls.batch_add(interactions, self.batch_size)
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
    ) -> list[SearchHit]:
        """The prompts most similar to ``text``, best first, with scores and texts."""
        return self._run(
            _Calls.search(
                text,
                top_k,
                session_id=session_id,
                agent_id=agent_id,
                since=since,
                until=until,
                min_score=min_score,
                mode=mode,
            )
        )

    def get_similar_prompts(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        min_score: float | None = None,
    ) -> list[str]:
        """The ids of the prompts most similar to ``text``, best first."""
        hits = self.search(
            text, top_k, session_id=session_id, agent_id=agent_id, min_score=min_score
        )
        return [hit.id for hit in hits]

    def get_interaction(self, prompt_id: str) -> Interaction:
        """One interaction by its prompt id (``NotFoundError`` if there is none)."""
        return self._run(_Calls.get_interaction(prompt_id))

    def get_session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (``NotFoundError`` if there is none)."""
        return self._run(_Calls.get_session(session_id))

    def sessions(self) -> list[str]:
        """The ids of every session."""
        return self._run(_Calls.sessions())

    def delete_interaction(self, prompt_id: str) -> None:
        """Remove one interaction (``NotFoundError`` if there is none)."""
        self._run(_Calls.delete_interaction(prompt_id))

    def delete_session(self, session_id: str) -> list[str]:
        """Remove a session; returns the prompt ids removed."""
        return self._run(_Calls.delete_session(session_id))

    def stats(self) -> dict[str, Any]:
        """Counts and the backends the server uses."""
        result: dict[str, Any] = self._run(_Calls.simple("/memory/stats"))
        return result

    def node_link_data(self, session_id: str | None = None) -> dict[str, Any]:
        """The node-link JSON of the graph, or of one session."""
        result: dict[str, Any] = self._run(_Calls.simple("/memory/graph", session_id))
        return result

    def health(self) -> dict[str, Any]:
        """The server's health answer (needs no API key)."""
        result: dict[str, Any] = self._run(_Calls.simple("/healthz"))
        return result

    def close(self) -> None:
        """Close the connections (unless the httpx client was given)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> MemoryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncMemoryClient(_Base):
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

    async def _run(self, call: _Call[T]) -> T:
        try:
            response = await self._client.send(self._request(call, self._client))
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return self._result(call, response)

    async def add_interaction(
        self,
        prompt: Mapping[str, Any],
        response: Mapping[str, Any],
        agent: Mapping[str, Any],
        session_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        timestamp: Moment = None,
    ) -> str:
        """Record one interaction; returns the prompt id."""
        return await self._run(
            _Calls.add_interaction(prompt, response, agent, session_id, metadata, timestamp)
        )

    async def batch_add(self, interactions: Iterable[Mapping[str, Any] | Interaction]) -> list[str]:
        """Record many interactions, ``batch_size`` a request; returns the ids newly added."""
        added: list[str] = []
        for call in _Calls.batch_add(interactions, self.batch_size):
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
    ) -> list[SearchHit]:
        """The prompts most similar to ``text``, best first, with scores and texts."""
        return await self._run(
            _Calls.search(
                text,
                top_k,
                session_id=session_id,
                agent_id=agent_id,
                since=since,
                until=until,
                min_score=min_score,
                mode=mode,
            )
        )

    async def get_similar_prompts(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        min_score: float | None = None,
    ) -> list[str]:
        """The ids of the prompts most similar to ``text``, best first."""
        hits = await self.search(
            text, top_k, session_id=session_id, agent_id=agent_id, min_score=min_score
        )
        return [hit.id for hit in hits]

    async def get_interaction(self, prompt_id: str) -> Interaction:
        """One interaction by its prompt id (``NotFoundError`` if there is none)."""
        return await self._run(_Calls.get_interaction(prompt_id))

    async def get_session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (``NotFoundError`` if there is none)."""
        return await self._run(_Calls.get_session(session_id))

    async def sessions(self) -> list[str]:
        """The ids of every session."""
        return await self._run(_Calls.sessions())

    async def delete_interaction(self, prompt_id: str) -> None:
        """Remove one interaction (``NotFoundError`` if there is none)."""
        await self._run(_Calls.delete_interaction(prompt_id))

    async def delete_session(self, session_id: str) -> list[str]:
        """Remove a session; returns the prompt ids removed."""
        return await self._run(_Calls.delete_session(session_id))

    async def stats(self) -> dict[str, Any]:
        """Counts and the backends the server uses."""
        result: dict[str, Any] = await self._run(_Calls.simple("/memory/stats"))
        return result

    async def node_link_data(self, session_id: str | None = None) -> dict[str, Any]:
        """The node-link JSON of the graph, or of one session."""
        result: dict[str, Any] = await self._run(_Calls.simple("/memory/graph", session_id))
        return result

    async def health(self) -> dict[str, Any]:
        """The server's health answer (needs no API key)."""
        result: dict[str, Any] = await self._run(_Calls.simple("/healthz"))
        return result

    async def aclose(self) -> None:
        """Close the connections (unless the httpx client was given)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncMemoryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
