"""The MCP server object: the SDK's ``MCPServer`` with the memory tools registered on it.

:func:`create_server` builds it over a memory graph you opened (the way to embed it or test it
in-process); :func:`open_memory` opens the graph the settings describe.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from mcp.server.mcpserver import MCPServer

from raeburnmemory.mcp.tools import TOOLS, MemoryTools

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph
    from raeburnmemory.mcp.settings import McpSettings

__all__ = ["INSTRUCTIONS", "SERVER_NAME", "create_server", "open_memory", "tool_names"]

#: The name the server gives clients.
SERVER_NAME = "raeburnmemory"

#: What the server tells a model about itself when a client connects.
INSTRUCTIONS = (
    "A persistent memory of past interactions (a prompt, the response, the agent, the session). "
    "Search it before answering to reuse what was said before; record what is worth keeping."
)


def _version() -> str:
    try:
        return version("raeburnmemory-mcp")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return ""


def tool_names(*, read_only: bool = False) -> list[str]:
    """The names of the tools a server offers (only those that read when ``read_only``)."""
    return [spec.name for spec in TOOLS if not (read_only and spec.writes)]


def create_server(
    memory: MemoryGraph,
    *,
    read_only: bool = False,
    descriptions: Mapping[str, str] | None = None,
) -> MCPServer:
    """An MCP server offering the memory tools over ``memory``, which the caller closes.

    ``read_only`` leaves out every tool that writes; ``descriptions`` replaces the built-in
    description of the tools it names (as ``load_descriptions`` reads them from a file).
    """
    server: MCPServer = MCPServer(
        SERVER_NAME, instructions=INSTRUCTIONS, version=_version(), log_level="WARNING"
    )
    tools = MemoryTools(memory, read_only=read_only)
    overrides = dict(descriptions or {})
    for spec in TOOLS:
        if read_only and spec.writes:
            continue
        server.add_tool(
            getattr(tools, spec.name),
            name=spec.name,
            title=spec.title,
            description=overrides.get(spec.name, spec.description()),
            annotations=spec.annotations,
            structured_output=True,
        )
    return server


def open_memory(settings: McpSettings) -> MemoryGraph:
    """Open the memory graph ``settings`` describe.

    A read-only server opens only a store that exists (``StoreNotFoundError`` otherwise); a
    server that writes creates it.
    """
    from raeburnmemory.memory_graph import MemoryGraph

    return MemoryGraph(create=not settings.read_only, **settings.memory_kwargs())
