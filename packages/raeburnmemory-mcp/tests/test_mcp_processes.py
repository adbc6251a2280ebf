"""Several clients, one store: real ``raeburnmemory-mcp`` processes writing and searching at once.

Each process is started by the SDK's stdio client, as a desktop client starts it. Every record a
process acknowledged must be found afterwards by every process; none may hang.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

PROCESSES = 3
RECORDS_EACH = 10
# Time allowed for the whole run: a hang fails the test, a slow machine does not.
DEADLINE = 300

STORES = [
    pytest.param("json", "graph.json", id="json"),
    pytest.param(
        "sqlite",
        "graph.db",
        id="sqlite",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("raeburnmemory.sqlite") is None,
            reason="raeburnmemory-sqlite is not installed",
        ),
    ),
]


@pytest.mark.parametrize(("backend", "filename"), STORES)
def test_every_acknowledged_record_is_found_by_every_process(
    tmp_path: Path, stdio_server: Callable[..., Any], call: Any, backend: str, filename: str
) -> None:
    store = tmp_path / "store" / filename
    acknowledged: dict[str, list[str]] = {}

    async def write_and_search(index: int, client: Client) -> None:
        session = f"client-{index}"
        ids = acknowledged.setdefault(session, [])
        for number in range(RECORDS_EACH):
            recorded = await call(
                client,
                "record_memory",
                {
                    "prompt": f"{session} note {number}",
                    "response": f"answer {number}",
                    "session_id": session,
                    "agent_id": session,
                },
            )
            ids.append(recorded["prompt_id"])
            await call(client, "search_memory", {"query": f"note {number}", "top_k": 3})

    async def check(client: Client, seen: list[Any]) -> None:
        stats = await call(client, "memory_stats")
        sessions = await call(client, "list_sessions")
        found = {}
        for session, ids in acknowledged.items():
            for prompt_id in ids:
                found[prompt_id] = (await call(client, "get_memory", {"prompt_id": prompt_id}))[
                    "session_id"
                ]
            hits = await call(
                client,
                "search_memory",
                {"query": f"{session} note", "session_id": session, "top_k": RECORDS_EACH},
            )
            assert sorted(m["prompt_id"] for m in hits["matches"]) == sorted(ids)
        seen.append((stats["interactions"], sorted(sessions["sessions"]), found))

    async def main() -> list[Any]:
        seen: list[Any] = []
        env = {"RAEBURN_STORAGE_BACKEND": backend}
        with anyio.fail_after(DEADLINE):
            async with AsyncExitStack() as stack:
                clients = [
                    await stack.enter_async_context(Client(stdio_server(store, **env)))
                    for _ in range(PROCESSES)
                ]
                async with anyio.create_task_group() as group:
                    for index, client in enumerate(clients):
                        group.start_soon(write_and_search, index, client)
                async with anyio.create_task_group() as group:
                    for client in clients:
                        group.start_soon(check, client, seen)
        return seen

    seen = anyio.run(main)
    every_id = {i: s for s, ids in acknowledged.items() for i in ids}
    assert len(every_id) == PROCESSES * RECORDS_EACH
    assert len(seen) == PROCESSES
    for interactions, sessions, found in seen:
        assert interactions == PROCESSES * RECORDS_EACH
        assert sessions == sorted(acknowledged)
        assert found == every_id
