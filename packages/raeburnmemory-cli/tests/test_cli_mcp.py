"""``raeburnmemory mcp``: the MCP server on the store the global options name, when installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.memory_graph import MemoryGraph

#: Time allowed for one exchange with the server process: a hang fails, never a slow run.
DEADLINE = 120


def test_mcp_without_the_server_says_what_to_install(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "raeburnmemory.mcp.command", None)  # as if not installed
    cli("mcp").assert_error(1, "pip install raeburnmemory-mcp")


@pytest.mark.skipif(
    importlib.util.find_spec("raeburnmemory.mcp") is None, reason="raeburnmemory-mcp is missing"
)
def test_the_global_options_reach_the_mcp_server(tmp_path: Path) -> None:
    import anyio
    from mcp import Client, StdioServerParameters

    store = tmp_path / "elsewhere" / "notes.json"
    with MemoryGraph(store, embedding_model=None) as memory:
        memory.add_interaction(
            {"id": "p1", "text": "q"}, {"id": "r1", "text": "a"}, {"id": "a"}, "s"
        )
    server = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "raeburnmemory.cli",
            "--db",
            str(store),
            "--model",
            "none",
            "mcp",
            "--read-only",
        ],
        env={"HOME": str(tmp_path)},
    )

    async def main() -> Any:
        with anyio.fail_after(DEADLINE):
            async with Client(server) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                found = await client.call_tool("get_memory", {"prompt_id": "p1"})
                return names, found.structured_content

    names, found = anyio.run(main)
    assert "record_memory" not in names
    assert "search_memory" in names
    assert found["response_text"] == "a"
