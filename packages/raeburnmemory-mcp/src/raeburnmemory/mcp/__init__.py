"""raeburnmemory-mcp: a Model Context Protocol server over a raeburnmemory memory graph.

Run ``raeburnmemory-mcp`` (stdio) or ``raeburnmemory-mcp --transport http``; :func:`main` is that
command. :func:`create_server` builds the server over a ``MemoryGraph`` you opened.
"""

from raeburnmemory.mcp.command import main
from raeburnmemory.mcp.server import create_server, open_memory, tool_names
from raeburnmemory.mcp.settings import McpSettings

__all__ = ["McpSettings", "create_server", "main", "open_memory", "tool_names"]
