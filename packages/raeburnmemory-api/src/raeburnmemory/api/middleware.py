"""ASGI middleware: the request body size limit, and a plain start-up failure message."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from raeburnmemory.api.errors import error_body
from raeburnmemory.api.runtime import Runtime

__all__ = ["BodyTooLarge", "GateMiddleware"]


class BodyTooLarge(HTTPException):
    """Raised while a request body is read once it has passed the size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class GateMiddleware:
    """Refuses request bodies over the limit (413) and reports start-up failures plainly.

    A body whose ``Content-Length`` is over the limit is refused before it is read; a body
    without one is counted as it arrives and refused once it passes the limit.
    """

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
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            refusal = BodyTooLarge(limit)
            response = JSONResponse(
                error_body("RequestTooLargeError", refusal.detail), status_code=413
            )
            await response(scope, receive, send)
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

    def _lifespan_send(self, send: Send) -> Send:
        runtime = self.runtime

        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and runtime.startup_error:
                replaced: dict[str, Any] = dict(message)
                replaced["message"] = runtime.startup_error
                message = replaced
            await send(message)

        return lifespan_send
