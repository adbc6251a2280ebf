"""The streamable HTTP transport: a real ``raeburnmemory-mcp --transport http`` process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

# Time allowed for the server to start and for the exchange: a hang fails, never a slow run.
DEADLINE = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    give_up = time.monotonic() + DEADLINE
    while time.monotonic() < give_up:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}: {log.read_text('utf-8')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server did not listen on port {port}: {log.read_text('utf-8')}")


@pytest.fixture
def http_server(tmp_path: Path, server_env: Callable[..., dict[str, str]]) -> Iterator[str]:
    """The URL of a running HTTP server on a new JSON store."""
    port = _free_port()
    log = tmp_path / "server.log"
    env = server_env(tmp_path / "store" / "graph.json")
    command = [
        sys.executable,
        "-m",
        "raeburnmemory.mcp",
        "--transport",
        "http",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, log)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=DEADLINE)


def test_clients_record_and_search_over_streamable_http(http_server: str, call: Any) -> None:
    async def one_client(index: int) -> Any:
        async with Client(http_server) as client:
            return await call(
                client,
                "record_memory",
                {
                    "prompt": f"note {index}",
                    "response": "kept",
                    "session_id": "http",
                    "agent_id": f"client-{index}",
                },
            )

    async def main() -> Any:
        with anyio.fail_after(DEADLINE):
            recorded = [await one_client(index) for index in range(2)]
            async with Client(http_server) as reader:
                names = {tool.name for tool in (await reader.list_tools()).tools}
                history = await call(reader, "session_history", {"session_id": "http"})
                found = await call(reader, "search_memory", {"query": "note 1", "top_k": 1})
            return recorded, names, history, found

    recorded, names, history, found = anyio.run(main)
    assert "record_memory" in names
    assert [i["prompt_id"] for i in history["interactions"]] == [r["prompt_id"] for r in recorded]
    assert found["matches"][0]["prompt_id"] == recorded[1]["prompt_id"]
