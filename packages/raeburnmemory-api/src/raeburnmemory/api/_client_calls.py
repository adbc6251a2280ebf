"""The requests behind the HTTP clients: one ``Call`` per method, shared by both clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from raeburnmemory.api.errors import error_for
from raeburnmemory.core.errors import InvalidInteractionError, StoreUnavailableError
from raeburnmemory.core.model import Interaction, SearchHit, parse_timestamp

T = TypeVar("T")
Moment = datetime | str | float | None

#: Interactions sent per request by ``batch_add``.
DEFAULT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    body: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)


def segment(ident: str) -> str:
    """An id as one segment of a URL path (``.`` and ``..`` escaped too)."""
    quoted = quote(ident, safe="")
    return "%2E" * len(quoted) if quoted in (".", "..") else quoted


def encode_body(payload: Any) -> bytes:
    """A request body as JSON bytes (``InvalidInteractionError`` if it is not JSON)."""
    try:
        return json.dumps(payload, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInteractionError(f"the request is not JSON-serializable: {exc}") from None


def moment_value(value: Moment) -> str | float | None:
    """A moment as the API takes it: POSIX seconds as they are, anything else in ISO 8601."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return parse_timestamp(value).isoformat()


@dataclass(frozen=True)
class Record:
    """What ``add_interaction`` sends: each part as text, a mapping, or ``None``."""

    prompt: str | Mapping[str, Any]
    response: str | Mapping[str, Any] | None = None
    agent: str | Mapping[str, Any] | None = None
    session_id: str | None = None
    metadata: Mapping[str, Any] | None = None
    timestamp: Moment = None
    expires_at: Moment = None


@dataclass(frozen=True)
class Search:
    """What ``search`` sends: the text, how many hits, the mode and the filters."""

    text: str
    top_k: int
    session_id: str | None = None
    agent_id: str | None = None
    since: Moment = None
    until: Moment = None
    min_score: float | None = None
    mode: str = "vector"
    where: Mapping[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        """The request body: the text, ``top_k`` and every option given (not ``None``)."""
        where = dict(self.where) if isinstance(self.where, Mapping) else self.where
        options = {
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "since": moment_value(self.since),
            "until": moment_value(self.until),
            "min_score": self.min_score,
            "mode": self.mode,
            "where": where,
        }
        given = {name: value for name, value in options.items() if value is not None}
        return {"text": self.text, "top_k": self.top_k, **given}


def _part(value: str | Mapping[str, Any] | None) -> str | dict[str, Any] | None:
    return value if value is None or isinstance(value, str) else dict(value)


def _as_fields(item: Mapping[str, Any] | Interaction) -> dict[str, Any]:
    if isinstance(item, Interaction):
        agent = {**item.agent_attrs, "id": item.agent_id}
        if item.agent_name is not None:
            agent["name"] = item.agent_name
        response = None
        if item.response_id is not None:
            response = {**item.response_attrs, "id": item.response_id, "text": item.response_text}
        return {
            "prompt": {**item.prompt_attrs, "id": item.prompt_id, "text": item.prompt_text},
            "response": response,
            "agent": agent,
            "session_id": item.session_id,
            "metadata": dict(item.metadata),
            "timestamp": item.timestamp.isoformat(),
            "expires_at": moment_value(item.expires_at),
        }
    fields = dict(item)
    for moment in ("timestamp", "expires_at"):
        if fields.get(moment) is not None:
            fields[moment] = moment_value(fields[moment])
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


def _conflict_params(on_conflict: str) -> dict[str, str]:
    """The ``on_conflict`` query parameter (left out for the default, ``"error"``)."""
    return {} if on_conflict == "error" else {"on_conflict": on_conflict}


class Calls:
    """Builds the request of each client method; the two clients only send them."""

    @staticmethod
    def add_interaction(record: Record, on_conflict: str = "error") -> Call[str]:
        body = {
            "prompt": _part(record.prompt),
            "response": _part(record.response),
            "agent": _part(record.agent),
            "session_id": record.session_id,
            "metadata": dict(record.metadata) if record.metadata is not None else None,
            "timestamp": moment_value(record.timestamp),
            "expires_at": moment_value(record.expires_at),
        }
        return Call(
            "POST",
            "/memory/interactions",
            lambda r: str(r.json()["prompt_id"]),
            encode_body(body),
            _conflict_params(on_conflict),
        )

    @staticmethod
    def batch_add(
        interactions: Iterable[Mapping[str, Any] | Interaction],
        batch_size: int,
        on_conflict: str = "error",
    ) -> list[Call[list[str]]]:
        items = [_as_fields(item) for item in interactions]
        return [
            Call(
                "POST",
                "/memory/interactions/batch",
                lambda r: [str(i) for i in r.json()["added"]],
                encode_body({"interactions": items[start : start + batch_size]}),
                _conflict_params(on_conflict),
            )
            for start in range(0, len(items), batch_size)
        ]

    @staticmethod
    def search(search: Search) -> Call[list[SearchHit]]:
        return Call(
            "POST",
            "/memory/similar",
            lambda r: [_hit(h) for h in r.json()["hits"]],
            encode_body(search.body()),
        )

    @staticmethod
    def get_interaction(prompt_id: str) -> Call[Interaction]:
        return Call(
            "GET",
            f"/memory/interactions/{segment(prompt_id)}",
            lambda r: Interaction.from_dict(r.json()),
        )

    @staticmethod
    def get_session(session_id: str) -> Call[list[Interaction]]:
        return Call(
            "GET",
            f"/memory/sessions/{segment(session_id)}",
            lambda r: [Interaction.from_dict(i) for i in r.json()["interactions"]],
        )

    @staticmethod
    def delete_interaction(prompt_id: str) -> Call[None]:
        return Call("DELETE", f"/memory/interactions/{segment(prompt_id)}", _nothing)

    @staticmethod
    def delete_session(session_id: str) -> Call[list[str]]:
        return Call(
            "DELETE",
            f"/memory/sessions/{segment(session_id)}",
            lambda r: [str(i) for i in r.json()["deleted"]],
        )

    @staticmethod
    def sessions() -> Call[list[str]]:
        return Call("GET", "/memory/sessions", lambda r: [str(s) for s in r.json()["sessions"]])

    @staticmethod
    def simple(path: str, session_id: str | None = None) -> Call[Any]:
        params = {"session_id": session_id} if session_id is not None else {}
        return Call("GET", path, _json, params=params)


class ClientBase:
    """What both clients share: the server address, the headers and reading an answer."""

    def __init__(self, url: str, api_key: str | None, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.url = url.rstrip("/")
        self.batch_size = batch_size
        self._headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def _request(self, call: Call[Any], client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        # The client builds the request: a test client may be made by httpx2 (Starlette's
        # TestClient prefers it when installed), whose clients refuse httpx's requests.
        return client.build_request(
            call.method,
            self.url + call.path,
            params=call.params,
            content=call.body,
            headers=self._headers,
        )

    def _result(self, call: Call[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise error_for(response.status_code, body, response.headers)
        return call.parse(response)

    def _unreachable(self, exc: httpx.TransportError) -> StoreUnavailableError:
        return StoreUnavailableError(f"cannot reach the raeburnmemory API at {self.url}: {exc}")
