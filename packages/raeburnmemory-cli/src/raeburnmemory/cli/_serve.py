"""The ``serve`` command: the HTTP API under uvicorn (needs raeburnmemory-api)."""

from __future__ import annotations

import importlib.util
import os
from typing import Annotated

import typer

from raeburnmemory.cli._output import print_error, print_warning
from raeburnmemory.cli._settings import Settings, settings_of

__all__ = ["api_environment", "serve"]

_API_APP = "raeburnmemory.api:app"


def api_environment(settings: Settings) -> dict[str, str]:
    """The ``RAEBURN_*`` variables that give the API the store the global options name."""
    env = {"RAEBURN_STORAGE_BACKEND": settings.backend}
    if settings.db is not None:
        env["RAEBURN_POSTGRES_DSN" if settings.backend == "postgres" else "RAEBURN_DB_PATH"] = (
            settings.db
        )
    if settings.vectors is not None:
        env["RAEBURN_VECTOR_BACKEND"] = settings.vectors
    if settings.model is not None:
        env["RAEBURN_EMBED_MODEL"] = settings.model
    return env


def _api_installed() -> bool:
    try:
        return importlib.util.find_spec("raeburnmemory.api") is not None
    except ImportError:  # pragma: no cover - a broken namespace
        return False


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.", metavar="ADDRESS")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.", metavar="PORT")
    ] = 8000,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, help="Worker processes sharing the store.", metavar="N"),
    ] = 1,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level", help="uvicorn's log level (debug, info, warning, ...).", metavar="LEVEL"
        ),
    ] = "info",
) -> None:
    """Serve the memory over HTTP (the raeburnmemory-api application under uvicorn).

    The rate limit counts each client by its TCP address; behind a reverse proxy, name the
    proxy in RAEBURN_TRUSTED_PROXIES so that its X-Forwarded-For is believed.
    """
    settings = settings_of(ctx)
    if not _api_installed():
        print_error(
            "serve needs the HTTP API: pip install raeburnmemory-api "
            "(or: pip install 'raeburnmemory[api]')"
        )
        raise typer.Exit(1)
    import uvicorn

    if settings.options:
        print_warning("serve ignores --option; the API reads its settings from RAEBURN_* variables")
    os.environ.update(api_environment(settings))  # read by the API in every worker
    # uvicorn's own proxy headers would trust 127.0.0.1 by default; which proxies to believe
    # is the API's one setting, RAEBURN_TRUSTED_PROXIES.
    uvicorn.run(
        _API_APP,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level.lower(),
        proxy_headers=False,
    )
