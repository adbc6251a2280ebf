"""Tool errors: the library's failures (and the operating system's) as MCP tool errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ToolError

from raeburnmemory.core.errors import RaeburnMemoryError

__all__ = ["tool_errors"]


@contextmanager
def tool_errors() -> Iterator[None]:
    """Turn the library's errors (and the operating system's) into tool errors with its message."""
    try:
        yield
    except RaeburnMemoryError as exc:
        raise ToolError(str(exc) or type(exc).__name__) from exc
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        raise ToolError(f"{where}{exc.strerror or exc}") from exc
