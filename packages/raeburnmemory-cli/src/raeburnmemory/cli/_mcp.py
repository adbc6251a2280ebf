"""The ``mcp`` command: the raeburnmemory-mcp server, on the store the global options name."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from raeburnmemory.cli._output import print_error
from raeburnmemory.cli._serve import api_environment
from raeburnmemory.cli._settings import settings_of

__all__ = ["mcp"]


def mcp(
    ctx: typer.Context,
    transport: Annotated[
        str, typer.Option("--transport", help="stdio (what desktop clients start) or http.")
    ] = "stdio",
    host: Annotated[str, typer.Option("--host", help="HTTP: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP: port to listen on.")] = 8765,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Offer only the tools that read.")
    ] = False,
    tool_descriptions: Annotated[
        Path | None,
        typer.Option("--tool-descriptions", help="JSON or TOML file of tool descriptions."),
    ] = None,
) -> None:
    """Serve the memory to MCP clients (the raeburnmemory-mcp server)."""
    settings = settings_of(ctx)
    try:
        from raeburnmemory.mcp.command import main as serve_mcp
    except ImportError:
        print_error(
            "mcp needs the MCP server: pip install raeburnmemory-mcp "
            "(or: pip install 'raeburnmemory[mcp]')"
        )
        raise typer.Exit(1) from None
    os.environ.update(api_environment(settings))  # the server reads the RAEBURN_* variables
    if settings.options:
        os.environ["RAEBURN_STORE_OPTIONS"] = json.dumps(dict(settings.options))
    argv = ["--transport", transport, "--host", host, "--port", str(port)]
    argv += ["--read-only"] if read_only else []
    argv += ["--tool-descriptions", str(tool_descriptions)] if tool_descriptions else []
    raise typer.Exit(serve_mcp(argv, prog="raeburnmemory mcp"))
