"""The routes of the HTTP API.

Most handlers are plain functions: FastAPI runs them in its thread pool, so the blocking
``MemoryGraph`` calls never hold up the event loop. ``POST /memory/similar``, the hottest
route, runs quick searches on the event loop instead (see ``_dispatch``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPBearer

from raeburnmemory.api.models import (
    AddResponse,
    BatchRequest,
    BatchResponse,
    DeleteSessionResponse,
    ErrorResponse,
    GraphOut,
    HealthResponse,
    HitOut,
    InteractionIn,
    InteractionOut,
    SessionOut,
    SessionsOut,
    SimilarRequest,
    SimilarResponse,
)
from raeburnmemory.api.runtime import memory_with, runtime_of

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph
    from raeburnmemory.core.model import SearchHit

__all__ = ["Admin", "Memory", "Writer", "errors", "health_router", "memory_router"]


def errors(*extra: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "a malformed metadata filter or cursor",
        401: "no API key, or a wrong one (when the server has one)",
        403: "the API key does not have the scope this route needs",
        404: "no such prompt or session",
        409: "an id exists with different content, or the store has no embeddings yet",
        413: "the request body is over the size limit",
        415: "the body is not sent as JSON (Content-Type: application/json)",
        422: "the request does not match the schema",
        429: "over the rate limit; see Retry-After",
        503: "the store is unavailable or the server is starting",
    }
    codes = (401, 403, 422, 429, 503, *extra)
    return {
        code: {"model": ErrorResponse, "description": described[code]} for code in sorted(codes)
    }


# The key and the rate limit are checked by the middleware, before the body is read; this only
# puts the key in the OpenAPI schema (and the "Authorize" button of /docs).
_bearer = HTTPBearer(
    auto_error=False,
    description="Needed when the server runs with RAEBURN_API_KEY set: Bearer <that key>.",
)

health_router = APIRouter()
memory_router = APIRouter(prefix="/memory", dependencies=[Depends(_bearer)], tags=["memory"])

# The store of the key's namespace, once the key is seen to have the scope the route needs:
# ``read`` to look, ``write`` to record, ``admin`` to remove.
Memory = Depends(memory_with("read"))
Writer = Depends(memory_with("write"))
Admin = Depends(memory_with("admin"))
# Searches asking for at most this many hits of a text at most this long may run on the event
# loop (see _dispatch); longer texts take longer to encode, and more hits longer to read.
_CHEAP_TOP_K = 32
_CHEAP_TEXT = 2000


@health_router.get("/healthz", tags=["health"])
async def healthz() -> HealthResponse:
    """Answers while the server runs; needs no API key and is not rate limited."""
    return HealthResponse()


def _chained(first: str, rest: Iterator[str]) -> Iterator[bytes]:
    yield first.encode()
    for chunk in rest:
        yield chunk.encode()


@memory_router.get(
    "/graph",
    response_class=StreamingResponse,
    responses={200: {"model": GraphOut, "content": {"application/json": {}}}, **errors(404)},
)
def graph(
    session_id: str | None = Query(default=None, description="only this session's part"),
    memory: MemoryGraph = Memory,
) -> StreamingResponse:
    """The node-link JSON of the graph, or of one session, streamed in chunks."""
    chunks = memory.iter_node_link_json(session_id)
    first = next(chunks)  # errors surface here, before the response starts
    return StreamingResponse(_chained(first, chunks), media_type="application/json")


@memory_router.post(
    "/similar", response_model=SimilarResponse, responses=errors(400, 409, 413, 415)
)
async def similar(request: SimilarRequest, http: Request, memory: MemoryGraph = Memory) -> Response:
    """The prompts most similar to a text, best first (409 if nothing is embedded yet)."""
    runtime = runtime_of(http)
    arguments: dict[str, Any] = {
        "session_id": request.session_id,
        "agent_id": request.agent_id,
        "since": request.since,
        "until": request.until,
        "min_score": request.min_score,
        "mode": request.mode,
        "where": request.where,
    }

    def nowait() -> list[SearchHit] | None:
        runtime.limit_search_threads()
        return memory.search_nowait(request.text, request.top_k, **arguments)

    def search() -> list[SearchHit]:
        runtime.limit_search_threads()
        return memory.search(request.text, request.top_k, **arguments)

    # search_nowait itself answers only vector searches; the rest go to the pool.
    cheap = request.top_k <= _CHEAP_TOP_K and len(request.text) <= _CHEAP_TEXT
    hits = await runtime.searches.run(nowait, search, cheap=cheap)
    # The hottest route: the answer is serialized once, not validated again on the way out.
    answer = SimilarResponse(ids=[hit.id for hit in hits], hits=[HitOut.of(hit) for hit in hits])
    return Response(answer.model_dump_json(), media_type="application/json")


_ON_CONFLICT = Query(
    default="error",
    description="when a prompt id is stored with other content: error (409), skip, or replace",
)
OnConflict = Literal["error", "skip", "replace"]


@memory_router.post("/interactions", status_code=201, responses=errors(409, 413, 415))
def add_interaction(
    request: InteractionIn, on_conflict: OnConflict = _ON_CONFLICT, memory: MemoryGraph = Writer
) -> AddResponse:
    """Record one interaction; the same id with the same content again changes nothing."""
    fields = request.as_mapping()
    prompt_id = memory.add_interaction(
        fields["prompt"],
        fields["response"],
        fields["agent"],
        fields["session_id"],
        metadata=fields["metadata"],
        timestamp=fields["timestamp"],
        expires_at=fields["expires_at"],
        on_conflict=on_conflict,
    )
    return AddResponse(prompt_id=prompt_id)


@memory_router.post("/interactions/batch", responses=errors(409, 413, 415))
def batch_add(
    request: BatchRequest, on_conflict: OnConflict = _ON_CONFLICT, memory: MemoryGraph = Writer
) -> BatchResponse:
    """Record many interactions at once; answers with the prompt ids newly recorded (or,
    with ``on_conflict=replace``, written)."""
    items = [item.as_mapping() for item in request.interactions]
    added = memory.batch_add(items, on_conflict=on_conflict)
    return BatchResponse(added=added)


@memory_router.get("/interactions/{prompt_id:path}", responses=errors(404))
def get_interaction(prompt_id: str, memory: MemoryGraph = Memory) -> InteractionOut:
    """One interaction, by its prompt id."""
    return InteractionOut.of(memory.get_interaction(prompt_id))


@memory_router.delete(
    "/interactions/{prompt_id:path}",
    status_code=204,
    response_class=Response,
    responses=errors(404),
)
def delete_interaction(prompt_id: str, memory: MemoryGraph = Admin) -> Response:
    """Remove an interaction from the graph, the vectors and the store."""
    memory.delete_interaction(prompt_id)
    return Response(status_code=204)


@memory_router.get("/sessions", responses=errors())
def sessions(memory: MemoryGraph = Memory) -> SessionsOut:
    """The ids of every session."""
    return SessionsOut(sessions=memory.sessions())


@memory_router.get("/sessions/{session_id:path}", responses=errors(404))
def get_session(session_id: str, memory: MemoryGraph = Memory) -> SessionOut:
    """A session's interactions, in order."""
    items = memory.get_session(session_id)
    return SessionOut(
        session_id=session_id, interactions=[InteractionOut.of(item) for item in items]
    )


@memory_router.delete("/sessions/{session_id:path}", responses=errors(404))
def delete_session(session_id: str, memory: MemoryGraph = Admin) -> DeleteSessionResponse:
    """Remove a session and every interaction in it."""
    return DeleteSessionResponse(session_id=session_id, deleted=memory.delete_session(session_id))


@memory_router.get("/stats", responses=errors())
def stats(memory: MemoryGraph = Memory) -> dict[str, Any]:
    """Counts and the backends in use."""
    return memory.stats()
