"""The ``raeburnmemory-mcp`` command: the MCP server over stdio (default) or streamable HTTP.

The store and encoder come from the ``RAEBURN_*`` variables (see
:mod:`raeburnmemory.mcp.settings`); options on the command line win over the variables. Nothing
but the protocol is written to standard output; messages go to standard error. A bad setting
exits with status 2, a store that cannot be opened with 1, an interruption with 130.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from raeburnmemory.core.errors import ConfigurationError, RaeburnMemoryError

__all__ = ["DEFAULT_HTTP_PORT", "EXIT_ERROR", "EXIT_USAGE", "build_parser", "main"]

#: The port ``--transport http`` listens on unless ``--port`` says otherwise.
DEFAULT_HTTP_PORT = 8765
EXIT_ERROR = 1
EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130
_PROG = "raeburnmemory-mcp"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def build_parser(prog: str = _PROG) -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a raeburnmemory memory graph to MCP clients. The store comes from "
        "RAEBURN_DB_PATH, RAEBURN_STORAGE_BACKEND, RAEBURN_EMBED_MODEL and the other RAEBURN_* "
        "variables of the HTTP API.",
    )
    parser.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio (default: what desktop clients start) or streamable HTTP",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP: address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_HTTP_PORT, help="HTTP: port to listen on"
    )
    parser.add_argument("--path", default="/mcp", help="HTTP: path of the endpoint (/mcp)")
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="offer only the tools that read (also RAEBURN_MCP_READ_ONLY=1)",
    )
    parser.add_argument(
        "--tool-descriptions",
        type=Path,
        metavar="FILE",
        help="JSON or TOML file of tool descriptions (also RAEBURN_MCP_TOOL_DESCRIPTIONS)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="warning",
        help="what the server logs on standard error (default warning)",
    )
    return parser


def _say(prog: str, kind: str, message: str) -> None:
    print(f"{prog}: {kind}: {message}", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace, prog: str) -> None:
    """Open the memory, build the server and run it until the transport ends."""
    import anyio
    import uvicorn

    from raeburnmemory.mcp.descriptions import load_descriptions
    from raeburnmemory.mcp.server import create_server, open_memory, tool_names
    from raeburnmemory.mcp.settings import McpSettings

    settings = McpSettings.from_env()
    if args.read_only is not None:
        settings = dataclasses.replace(settings, read_only=args.read_only)
    if args.tool_descriptions is not None:
        settings = dataclasses.replace(settings, tool_descriptions=args.tool_descriptions)
    descriptions = None
    if settings.tool_descriptions is not None:
        descriptions = load_descriptions(settings.tool_descriptions, tool_names())
    if not 0 < args.port < 65536:
        raise ConfigurationError(f"--port {args.port} is not a port number (1 to 65535)")
    if not args.path.startswith("/"):
        raise ConfigurationError(f"--path {args.path!r} must start with /")

    with open_memory(settings) as memory:
        server = create_server(memory, read_only=settings.read_only, descriptions=descriptions)
        if args.transport == "stdio":
            anyio.run(server.run_stdio_async)
            return
        if args.host not in _LOOPBACK:
            _say(
                prog,
                "warning",
                "the HTTP endpoint has no authentication; anyone who can reach "
                f"{args.host}:{args.port} can read and change the memory",
            )
        app = server.streamable_http_app(streamable_http_path=args.path, host=args.host)
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


def main(argv: Sequence[str] | None = None, *, prog: str = _PROG) -> int:
    """Run the server (the ``raeburnmemory-mcp`` console script); returns the exit status."""
    args = build_parser(prog).parse_args(argv)
    import logging

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="%(message)s")
    try:
        _serve(args, prog)
    except ConfigurationError as exc:
        _say(prog, "error", str(exc))
        return EXIT_USAGE
    except RaeburnMemoryError as exc:
        _say(prog, "error", str(exc) or type(exc).__name__)
        return EXIT_ERROR
    except OSError as exc:
        where = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        _say(prog, "error", where)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return _EXIT_INTERRUPTED
    return 0
