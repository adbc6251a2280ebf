"""Builds the FastAPI application: routes, error handlers, start-up and shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from raeburnmemory.api import _listing_routes  # noqa: F401 - adds its routes to memory_router
from raeburnmemory.api._docs import add_docs_pages
from raeburnmemory.api._explorer import add_explorer
from raeburnmemory.api._mcp import MCP_PATH, mcp_endpoint
from raeburnmemory.api._responses import error_response
from raeburnmemory.api.errors import error_body
from raeburnmemory.api.middleware import GateMiddleware
from raeburnmemory.api.routes import health_router, memory_router
from raeburnmemory.api.runtime import Runtime
from raeburnmemory.api.settings import Settings
from raeburnmemory.core.errors import RaeburnMemoryError

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph

__all__ = ["create_app"]

logger = logging.getLogger("raeburnmemory.api")

_HTTP_TYPES = {413: "RequestTooLargeError", 401: "AuthenticationError"}


def _version() -> str:
    try:
        return version("raeburnmemory-api")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


class _App(FastAPI):
    """The application, which first settles who the client of each request is.

    The client's address goes into the scope's ``client`` before anything else reads it (see
    ``_clients``): the TCP peer, or what the trusted proxies forwarded.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            runtime: Runtime = self.state.raeburn
            client = runtime.proxies.client_of(scope, receive)
            known = scope.get("client")
            port = known[1] if known and known[0] == client else 0
            scope["client"] = (client, port)
        await super().__call__(scope, receive, send)


def _library_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RaeburnMemoryError)
    response = error_response(exc)
    if response.status_code >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    return response


def _not_json(problem: dict[str, Any]) -> str | None:
    """What is wrong with a body that is not JSON at all, or ``None`` for other problems."""
    loc = tuple(problem.get("loc", ()))
    if problem.get("type") == "json_invalid":
        reason = str((problem.get("ctx") or {}).get("error", "it cannot be parsed"))
        where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        return f"the body must be JSON: {reason}{where}"
    if problem.get("type") == "missing" and loc == ("body",):
        return "the body must be JSON: this request has no body"
    return None


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    for problem in exc.errors():
        message = _not_json(problem)
        if message is not None:
            return JSONResponse(error_body("InvalidRequestError", message), status_code=422)
    problems = [
        {
            "loc": [str(part) for part in problem.get("loc", ())],
            "msg": str(problem.get("msg", "")),
            "type": str(problem.get("type", "")),
        }
        for problem in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(p['loc'])}: {p['msg']}" for p in problems[:5])
    message = f"invalid request: {summary}" if summary else "invalid request"
    return JSONResponse(
        error_body("InvalidRequestError", message, errors=problems), status_code=422
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # FastAPI could not decode the body at all (not UTF-8 JSON)
        message = f"the body must be JSON: it is not UTF-8 JSON text ({exc.detail})"
        return JSONResponse(error_body("InvalidRequestError", message), status_code=422)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    type_name = _HTTP_TYPES.get(exc.status_code, "ApiError")
    return JSONResponse(
        error_body(type_name, message), status_code=exc.status_code, headers=exc.headers
    )


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("InternalError", "internal server error"), status_code=500)


def create_app(settings: Settings | None = None, *, memory: MemoryGraph | None = None) -> FastAPI:
    """A FastAPI application serving a memory graph.

    ``settings`` default to :meth:`Settings.from_env`, read when the application starts. Give
    ``memory`` to serve a ``MemoryGraph`` you opened yourself (it is not closed at shutdown);
    otherwise the application opens one from the settings at start-up and closes it at
    shutdown. Nothing is opened before start-up. The memory explorer is served at ``/ui``
    unless ``settings.explorer`` is false. When ``raeburnmemory-mcp`` is installed, the
    application also serves MCP over streamable HTTP at ``/mcp``, behind the same gate.
    """
    runtime = Runtime(settings, memory)
    endpoint = mcp_endpoint(runtime)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await anyio.to_thread.run_sync(runtime.start)
        except RaeburnMemoryError as exc:
            runtime.startup_error = f"raeburnmemory API cannot start: {exc}"
            await anyio.to_thread.run_sync(runtime.stop)
            raise
        try:
            async with AsyncExitStack() as stack:
                if endpoint is not None:
                    await endpoint.start(stack)
                yield
        finally:
            await anyio.to_thread.run_sync(runtime.stop)

    app = _App(
        title="raeburnmemory",
        version=_version(),
        description="A persistent memory graph for LLM applications, over HTTP.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.raeburn = runtime
    add_docs_pages(app, app.title)
    add_explorer(app, runtime)
    app.add_middleware(GateMiddleware, runtime=runtime)
    handlers: dict[Any, Any] = {
        RaeburnMemoryError: _library_error,
        RequestValidationError: _validation_error,
        HTTPException: _http_error,
        Exception: _unexpected_error,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
    app.include_router(health_router)
    app.include_router(memory_router)
    if endpoint is not None:
        app.router.routes.append(Route(MCP_PATH, endpoint=endpoint, include_in_schema=False))
    return app
