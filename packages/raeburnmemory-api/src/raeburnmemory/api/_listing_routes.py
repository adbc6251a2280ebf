"""The routes that list, count, change and forget interactions, and the session overview.

They hang on the same ``/memory`` router as the others (same key check, scopes and errors).
A filter given in a query string (``where``) is JSON text; a malformed one is HTTP 400.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from raeburnmemory.api.models import (
    CountOut,
    ForgetRequest,
    ForgetResponse,
    InteractionOut,
    InteractionsPage,
    SessionOverviewPage,
    SessionSummaryOut,
    UpdateRequest,
)
from raeburnmemory.api.routes import Admin, Memory, Writer, errors, memory_router
from raeburnmemory.core.errors import InvalidFilterError
from raeburnmemory.core.listing import MAX_PAGE_SIZE

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph

__all__ = ["ListingFilters", "parse_where", "query_moment"]

_AGENT_TEXT = "only this agent"
_SINCE_TEXT = "from this moment on (ISO 8601 or POSIX seconds)"
_UNTIL_TEXT = "up to this moment (ISO 8601 or POSIX seconds)"
_WHERE_TEXT = 'a metadata filter as JSON text, e.g. {"user": "ana"} or {"n": {"$gte": 2}}'
_AGENT = Query(default=None, description=_AGENT_TEXT)
_SINCE = Query(default=None, description=_SINCE_TEXT)
_UNTIL = Query(default=None, description=_UNTIL_TEXT)
_LIMIT = Query(default=100, ge=1, le=MAX_PAGE_SIZE, description="how many items at most")
_CURSOR = Query(default=None, description="the next_cursor of the previous page")


class ListingFilters(BaseModel):
    """The filters of the listing and the count, as query parameters."""

    session_id: str | None = Field(default=None, description="only this session")
    agent_id: str | None = Field(default=None, description=_AGENT_TEXT)
    since: str | None = Field(default=None, description=_SINCE_TEXT)
    until: str | None = Field(default=None, description=_UNTIL_TEXT)
    where: str | None = Field(default=None, description=_WHERE_TEXT)

    def arguments(self) -> dict[str, Any]:
        """The filters as keyword arguments of ``MemoryGraph.interactions`` and ``count``."""
        return {
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "since": query_moment(self.since),
            "until": query_moment(self.until),
            "where": parse_where(self.where),
        }


def parse_where(text: str | None) -> Any:
    """The metadata filter of a query string (JSON text), or ``None``; ``InvalidFilterError``
    (HTTP 400) when it is not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidFilterError("where", f"not JSON text ({exc})") from None


def query_moment(text: str | None) -> str | float | None:
    """A moment of a query string: POSIX seconds when it is a number, else ISO 8601 text
    (the library checks it and names the parameter when it is neither)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


@memory_router.get("/interactions", responses=errors(400))
def list_interactions(
    filters: Annotated[ListingFilters, Query()],
    limit: int = _LIMIT,
    cursor: str | None = _CURSOR,
    order: Literal["asc", "desc"] = Query(default="asc", description="asc: oldest first"),
    memory: MemoryGraph = Memory,
) -> InteractionsPage:
    """One page of the stored interactions that pass every filter, in time order; pass
    ``next_cursor`` back as ``cursor`` (with the same filters) for the next page."""
    page = memory.interactions(**filters.arguments(), limit=limit, cursor=cursor, order=order)
    items = [InteractionOut.of(item) for item in page.items]
    return InteractionsPage(items=items, next_cursor=page.next_cursor)


@memory_router.get("/count", responses=errors(400))
def count(
    filters: Annotated[ListingFilters, Query()],
    memory: MemoryGraph = Memory,
) -> CountOut:
    """How many stored interactions pass every filter (the filters of the listing)."""
    return CountOut(count=memory.count(**filters.arguments()))


@memory_router.patch("/interactions/{prompt_id:path}", responses=errors(404, 409, 413, 415))
def update_interaction(
    prompt_id: str, request: UpdateRequest, memory: MemoryGraph = Writer
) -> InteractionOut:
    """Change the response, the metadata or the prompt text of a stored interaction; parts
    left out keep their value. Answers with the interaction as stored now."""
    return InteractionOut.of(memory.update_interaction(prompt_id, **request.changes()))


@memory_router.post("/forget", responses=errors(400, 413, 415))
def forget(request: ForgetRequest, memory: MemoryGraph = Admin) -> ForgetResponse:
    """Delete every interaction that passes every filter given, in one durable step. With no
    filter it refuses (422) unless ``everything`` is ``true``."""
    deleted = memory.forget(
        where=request.where,
        session_id=request.session_id,
        agent_id=request.agent_id,
        before=request.before,
        everything=request.everything,
    )
    return ForgetResponse(deleted=deleted)


@memory_router.get("/session-overview", responses=errors(400))
def session_overview(
    agent_id: str | None = _AGENT,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    limit: int = _LIMIT,
    cursor: str | None = _CURSOR,
    memory: MemoryGraph = Memory,
) -> SessionOverviewPage:
    """One page of session summaries (number of interactions, first and last times, agents),
    the session with the newest activity first."""
    page = memory.session_overview(
        agent_id=agent_id,
        since=query_moment(since),
        until=query_moment(until),
        limit=limit,
        cursor=cursor,
    )
    items = [SessionSummaryOut.model_validate(item.to_dict()) for item in page.items]
    return SessionOverviewPage(items=items, next_cursor=page.next_cursor)
