"""raeburnmemory-api: the memory graph over HTTP, and its Python client.

Run the server with ``uvicorn raeburnmemory.api:app --workers 4``; it reads its settings from
the environment when it starts (see :class:`Settings`). ``create_app(settings)`` builds an
application for embedding in code. The client lives in :mod:`raeburnmemory.api.client`, which
needs only httpx.

Importing this package opens nothing: ``app`` is built on first access, and it opens its store
when it starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from raeburnmemory.api.app import create_app
    from raeburnmemory.api.settings import Settings

    app: FastAPI

__all__ = ["Settings", "app", "create_app"]


def __getattr__(name: str) -> Any:
    # The server-side names are loaded on first use, so the client does not import FastAPI.
    if name == "create_app":
        from raeburnmemory.api.app import create_app

        return create_app
    if name == "Settings":
        from raeburnmemory.api.settings import Settings

        return Settings
    if name == "app":
        from raeburnmemory.api.app import create_app

        built = create_app()
        globals()["app"] = built
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
