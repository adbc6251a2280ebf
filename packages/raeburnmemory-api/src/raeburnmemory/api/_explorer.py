"""The memory explorer: static browser pages served at ``/ui`` that call the public routes.

The pages (HTML, CSS and JavaScript, no build step) ship in the wheel under ``explorer/``,
with the graph-drawing library vendored under ``explorer/vendor/``. They hold no data of their
own and no key: every request they make goes to the ``/memory`` routes with the key the user
types, so the explorer sees exactly what that key may see. ``Settings.explorer`` (environment
``RAEBURN_EXPLORER=0``) turns the pages off; they then answer 404 like any unknown path.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from raeburnmemory.api.errors import error_body
from raeburnmemory.api.runtime import Runtime

__all__ = ["EXPLORER_URL", "SECURITY_HEADERS", "add_explorer", "explorer_dir"]

#: Where the explorer is served.
EXPLORER_URL = "/ui"
#: Headers on every explorer response: only the server's own scripts run, nothing loads from
#: elsewhere, and no other site may frame the pages.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_RAW_HEADERS = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]


def explorer_dir() -> Path:
    """The folder of the explorer's files inside the installed package."""
    return Path(str(files("raeburnmemory.api") / "explorer"))


class _ExplorerFiles:
    """The explorer's files, with the security headers, or 404 when the settings turn it off."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.files = StaticFiles(directory=explorer_dir(), html=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.runtime.settings
        if settings is not None and not settings.explorer:
            await self._not_found(scope, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_RAW_HEADERS]}
            await send(message)

        await self.files(scope, receive, send_with_headers)

    @staticmethod
    async def _not_found(scope: Scope, send: Send) -> None:
        path = scope.get("path", EXPLORER_URL)
        body = error_body("ApiError", f"no route {scope.get('method', 'GET')} {path}")
        response = JSONResponse(body, status_code=404)
        await response(scope, _never_called, send)


async def _never_called() -> Message:  # pragma: no cover - a JSON response reads no body
    return {"type": "http.disconnect"}


def add_explorer(app: FastAPI, runtime: Runtime) -> None:
    """Serve the explorer at ``/ui/`` on ``app`` (``/ui`` redirects there)."""
    app.mount(EXPLORER_URL, _ExplorerFiles(runtime), name="explorer")
