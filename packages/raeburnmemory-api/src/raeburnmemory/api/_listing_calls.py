"""The requests behind the clients' listing methods: list, count, update, forget, overview."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import httpx

from raeburnmemory.api._client_calls import Call, Moment, encode_body, moment_value, segment
from raeburnmemory.core.errors import InvalidFilterError
from raeburnmemory.core.listing import Page
from raeburnmemory.core.model import Interaction, parse_timestamp
from raeburnmemory.core.sessions import SessionsPage, SessionSummary

__all__ = ["UNCHANGED", "Filters", "ListingCalls", "Unchanged"]


class Unchanged:
    """The type of :data:`UNCHANGED`."""

    def __repr__(self) -> str:
        return "UNCHANGED"


#: Stands for a part ``update_interaction`` leaves as it is.
UNCHANGED = Unchanged()


def _filters(**given: Any) -> dict[str, str]:
    """Query parameters of the filters given (``where`` as JSON text, moments as text)."""
    params: dict[str, str] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name == "where":
            try:
                params[name] = json.dumps(value, allow_nan=False, separators=(",", ":"))
            except (TypeError, ValueError) as exc:
                raise InvalidFilterError("where", f"not JSON-serializable ({exc})") from None
        elif name in ("since", "until"):
            params[name] = str(moment_value(value))
        else:
            params[name] = str(value)
    return params


@dataclass(frozen=True)
class Filters:
    """The filters of a listing and a count: every one given must hold."""

    session_id: str | None = None
    agent_id: str | None = None
    since: Moment = None
    until: Moment = None
    where: Mapping[str, Any] | None = None

    def params(self) -> dict[str, str]:
        """The filters given, as query parameters."""
        return _filters(**{field.name: getattr(self, field.name) for field in fields(self)})


def _page(response: httpx.Response) -> Page:
    body = response.json()
    items = [Interaction.from_dict(item) for item in body["items"]]
    return Page(items, body.get("next_cursor"))


def _summary(data: Mapping[str, Any]) -> SessionSummary:
    return SessionSummary(
        session_id=data["session_id"],
        interactions=int(data["interactions"]),
        first=parse_timestamp(data["first"]),
        last=parse_timestamp(data["last"]),
        agents=tuple(str(agent) for agent in data["agents"]),
    )


def _sessions_page(response: httpx.Response) -> SessionsPage:
    body = response.json()
    return SessionsPage([_summary(item) for item in body["items"]], body.get("next_cursor"))


class ListingCalls:
    """Builds the request of each listing method of the clients."""

    @staticmethod
    def interactions(filters: Filters, limit: int, cursor: str | None, order: str) -> Call[Page]:
        params = {**filters.params(), **_filters(limit=limit, cursor=cursor, order=order)}
        return Call("GET", "/memory/interactions", _page, params=params)

    @staticmethod
    def count(filters: Filters) -> Call[int]:
        params = filters.params()
        return Call("GET", "/memory/count", lambda r: int(r.json()["count"]), params=params)

    @staticmethod
    def update_interaction(prompt_id: str, **parts: Any) -> Call[Interaction]:
        body = {name: value for name, value in parts.items() if value is not UNCHANGED}
        if isinstance(body.get("metadata"), Mapping):
            body["metadata"] = dict(body["metadata"])
        if isinstance(body.get("response"), Mapping):
            body["response"] = dict(body["response"])
        return Call(
            "PATCH",
            f"/memory/interactions/{segment(prompt_id)}",
            lambda r: Interaction.from_dict(r.json()),
            encode_body(body),
        )

    @staticmethod
    def forget(
        where: Mapping[str, Any] | None,
        session_id: str | None,
        agent_id: str | None,
        before: Moment,
        everything: bool,
    ) -> Call[int]:
        body: dict[str, Any] = {"everything": everything}
        for name, value in (("session_id", session_id), ("agent_id", agent_id)):
            if value is not None:
                body[name] = value
        if where is not None:
            body["where"] = dict(where)
        if before is not None:
            body["before"] = moment_value(before)
        return Call("POST", "/memory/forget", lambda r: int(r.json()["deleted"]), encode_body(body))

    @staticmethod
    def session_overview(
        agent_id: str | None, since: Moment, until: Moment, limit: int, cursor: str | None
    ) -> Call[SessionsPage]:
        params = _filters(agent_id=agent_id, since=since, until=until, limit=limit, cursor=cursor)
        return Call("GET", "/memory/session-overview", _sessions_page, params=params)
