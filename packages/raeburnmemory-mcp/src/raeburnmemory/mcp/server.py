"""The MCP server object: the SDK's ``MCPServer`` with the memory tools registered on it.

:func:`create_server` builds it over a memory graph you opened (the way to embed it or test it
in-process); :func:`open_memory` opens the graph the settings describe.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from mcp.server.mcpserver import MCPServer

from raeburnmemory.mcp.tools import TOOLS, MemoryTools

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph
    from raeburnmemory.mcp.settings import McpSettings

__all__ = ["INSTRUCTIONS", "SERVER_NAME", "create_server", "open_memory", "tool_names"]

#: The name the server gives clients.
SERVER_NAME = "raeburnmemory"

# Seconds a process waits for the others of its host to finish opening the store.
_OPEN_TIMEOUT = 600.0

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
    scopes: Collection[str] | None = None,
) -> MCPServer:
    """An MCP server offering the memory tools over ``memory``, which the caller closes.

    ``read_only`` leaves out every tool that writes; ``descriptions`` replaces the built-in
    description of the tools it names (as ``load_descriptions`` reads them from a file).
    ``scopes`` (of an API key: ``read``, ``write``, ``admin``) offers only the tools they allow.
    """
    server: MCPServer = MCPServer(
        SERVER_NAME, instructions=INSTRUCTIONS, version=_version(), log_level="WARNING"
    )
    if scopes is not None and "write" not in scopes and "admin" not in scopes:
        read_only = True
    tools = MemoryTools(memory, read_only=read_only)
    overrides = dict(descriptions or {})
    for spec in TOOLS:
        if (read_only and spec.writes) or (scopes is not None and spec.scope not in scopes):
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


def _open_lock(kwargs: Mapping[str, object]) -> FileLock:
    """A lock per user and store in the temp folder, the one the HTTP API's workers take too."""
    key = json.dumps(kwargs, sort_keys=True, default=str)
    owner = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{owner}\0{key}".encode()).hexdigest()[:20]
    path = Path(tempfile.gettempdir()) / f"raeburnmemory-open-{digest}.lock"
    return FileLock(path, timeout=_OPEN_TIMEOUT)


def open_memory(settings: McpSettings) -> MemoryGraph:
    """Open the memory graph ``settings`` describe.

    A read-only server opens only a store that exists (``StoreNotFoundError`` otherwise); a
    server that writes creates it. Clients often start several servers at once, and a store
    opened for the first time by several processes at the same moment may trip over its own
    set-up, so the processes of one host take turns at opening it.
    """
    from raeburnmemory.memory_graph import MemoryGraph

    kwargs = settings.memory_kwargs()
    with _open_lock(kwargs):
        return MemoryGraph(create=not settings.read_only, **kwargs)
