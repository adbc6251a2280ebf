"""ASGI middleware: the gate every ``/memory`` and ``/mcp`` request passes before its body is read.

In this order, each refusal answered at once with the one error shape:

1. the rate limit of the client's address (429), counted for every request that gets this far,
   with or without a right key, so guessing keys is limited too;
2. the API key (401), whose grant (namespace and scopes) goes into the scope's ``state``;
3. the rate limit of that key (429), so one key spread over many addresses is limited too;
4. a body that is not declared JSON (415), on the routes that take one;
5. a body over the size limit (413): refused before it is read when ``Content-Length`` says
   so, else counted as it arrives.

The body is read and parsed only after all of these passed. The middleware also reports a
start-up failure in one plain line.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from raeburnmemory.api._responses import error_response
from raeburnmemory.api.errors import InvalidRequestError, RateLimitedError, RequestTooLargeError
from raeburnmemory.api.runtime import GRANT_STATE, Runtime
from raeburnmemory.core.errors import RaeburnMemoryError

__all__ = ["GUARDED_PREFIX", "GUARDED_PREFIXES", "JSON_REQUIRED", "BodyTooLarge", "GateMiddleware"]

#: The routes under this prefix need the key and count against the rate limit.
GUARDED_PREFIX = "/memory"
#: Every guarded prefix: the memory routes and the MCP endpoint.
GUARDED_PREFIXES = (GUARDED_PREFIX, "/mcp")
#: The methods whose requests carry a JSON body on the guarded routes.
JSON_REQUIRED = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLarge(HTTPException):
    """Raised while a request body is read once it has passed the size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            text: str = value.decode("latin-1")
            return text
    return None


def _declared_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _bearer_key(scope: Scope) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or ``None``."""
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, key = value.strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _route_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _guarded(scope: Scope) -> bool:
    path = _route_path(scope)
    return any(path == prefix or path.startswith(prefix + "/") for prefix in GUARDED_PREFIXES)


class GateMiddleware:
    """Applies the rate limit, the API key and the body checks before the body is read."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.runtime.max_body_bytes
        try:
            if _guarded(scope):
                await self._admit(scope)
            declared = _declared_length(scope)
            if declared is not None and declared > limit:
                raise RequestTooLargeError(BodyTooLarge(limit).detail)
        except RaeburnMemoryError as exc:
            await error_response(exc)(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted_receive, send)

    async def _admit(self, scope: Scope) -> None:
        """Raise the refusal of a guarded request, if it gets one, before its body is read."""
        runtime = self.runtime
        client = scope["client"][0] if scope.get("client") else "unknown"
        await self._limit(client, f"from {client}")
        grant = runtime.check_key(_bearer_key(scope))
        scope.setdefault("state", {})[GRANT_STATE] = grant
        if not runtime.keys.empty:
            await self._limit(f"key:{grant.key_id}", f"with the API key {grant.label}")
        if scope.get("method") in JSON_REQUIRED:
            content_type = _header(scope, b"content-type")
            if content_type is None or not _is_json(content_type):
                said = "has none" if content_type is None else f"says {content_type!r}"
                raise InvalidRequestError(
                    "the body must be JSON: send it with 'Content-Type: application/json' "
                    f"(this request's Content-Type {said})",
                    status=415,
                )

    async def _limit(self, counter: str, who: str) -> None:
        """Count one request against ``counter``; ``RateLimitedError`` when over the limit."""
        limiter = self.runtime.limiter
        if limiter is None:
            return
        decision = await anyio.to_thread.run_sync(limiter.hit, counter)
        if not decision.allowed:
            raise RateLimitedError(
                f"more than {limiter.limit} requests in a minute {who}; retry in "
                f"{decision.retry_after} s",
                retry_after=decision.retry_after,
            )

    def _lifespan_send(self, send: Send) -> Send:
        runtime = self.runtime

        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and runtime.startup_error:
                replaced: dict[str, Any] = dict(message)
                replaced["message"] = runtime.startup_error
                message = replaced
            await send(message)

        return lifespan_send
