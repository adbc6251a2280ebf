"""Shared fixtures of the raeburnmemory-mcp tests: a memory, tool calls, server processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from raeburnmemory.memory_graph import MemoryGraph

Call = Callable[..., Awaitable[Any]]


async def _call(client: Client, name: str, arguments: dict[str, Any] | None = None) -> Any:
    result = await client.call_tool(name, arguments or {})
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert not result.is_error, f"{name} failed: {text}"
    return result.structured_content


async def _refused(client: Client, name: str, arguments: dict[str, Any] | None = None) -> str:
    result = await client.call_tool(name, arguments or {})
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert result.is_error, f"{name} answered {result.structured_content}"
    return text


@pytest.fixture
def call() -> Call:
    """``await call(client, tool, arguments)``: the structured result of a call that succeeds."""
    return _call


@pytest.fixture
def refused() -> Call:
    """``await refused(client, tool, arguments)``: the text of a call that is a tool error."""
    return _refused


def _server_env(store: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {"RAEBURN_DB_PATH": str(store), "RAEBURN_EMBED_MODEL": "none", **extra}
    for name in ("HOME", "TMPDIR", "SYSTEMROOT"):
        if name in os.environ:
            env.setdefault(name, os.environ[name])
    return env


@pytest.fixture
def server_env() -> Callable[..., dict[str, str]]:
    """``server_env(store, **variables)``: a server process's environment on ``store``."""
    return lambda store, **extra: _server_env(store, extra)


@pytest.fixture
def stdio_server() -> Callable[..., StdioServerParameters]:
    """``stdio_server(store, *args, **variables)``: how to start ``raeburnmemory-mcp`` on it."""

    def make(store: Path, *args: str, **extra: str) -> StdioServerParameters:
        return StdioServerParameters(
            command=sys.executable,
            args=["-m", "raeburnmemory.mcp", *args],
            env=_server_env(store, extra),
        )

    return make


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[MemoryGraph]:
    """An open JSON memory with the offline encoder."""
    with MemoryGraph(tmp_path / "store" / "graph.json", embedding_model=None) as graph:
        yield graph
