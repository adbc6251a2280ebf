"""The ``raeburnmemory-mcp`` command as clients start it: a real process over stdio."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from raeburnmemory.memory_graph import MemoryGraph

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

# Time allowed for one whole exchange with a real process: a hang fails, never a slow run.
DEADLINE = 120


def test_a_client_records_and_searches_through_a_stdio_process(
    tmp_path: Path, stdio_server: Callable[..., Any], call: Any
) -> None:
    store = tmp_path / "store" / "graph.json"

    async def main() -> Any:
        with anyio.fail_after(DEADLINE):
            async with Client(stdio_server(store)) as client:
                recorded = await call(
                    client,
                    "record_memory",
                    {
                        "prompt": "where is the backup",
                        "response": "on the NAS",
                        "session_id": "s",
                        "agent_id": "a",
                    },
                )
                found = await call(client, "search_memory", {"query": "where is the backup"})
                return recorded, found

    recorded, found = anyio.run(main)
    assert found["matches"][0]["prompt_id"] == recorded["prompt_id"]
    with MemoryGraph(store, embedding_model=None, create=False) as memory:
        assert memory.get_interaction(recorded["prompt_id"]).response_text == "on the NAS"


def _command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "raeburnmemory.mcp", *args],
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def test_a_bad_setting_stops_the_start_with_one_line(
    tmp_path: Path, server_env: Callable[..., dict[str, str]]
) -> None:
    env = server_env(tmp_path / "graph.json", RAEBURN_STORAGE_BACKEND="nosuch")
    done = _command(env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("python -m raeburnmemory.mcp: error: RAEBURN_STORAGE_BACKEND")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "graph.json").exists()


def test_read_only_refuses_a_store_that_does_not_exist(
    tmp_path: Path, server_env: Callable[..., dict[str, str]]
) -> None:
    missing = tmp_path / "nowhere" / "graph.json"
    done = _command(server_env(missing, RAEBURN_MCP_READ_ONLY="1"))
    assert done.returncode == 1
    assert str(missing.parent) in done.stderr
    assert "Traceback" not in done.stderr
    assert not missing.parent.exists()


def test_an_unusable_descriptions_file_is_named(
    tmp_path: Path, server_env: Callable[..., dict[str, str]]
) -> None:
    described = tmp_path / "tools.json"
    described.write_text('{"remember_everything": "x"}', "utf-8")
    done = _command(server_env(tmp_path / "graph.json"), "--tool-descriptions", str(described))
    assert done.returncode == 2
    assert f"{described}: no tool named 'remember_everything'" in done.stderr
