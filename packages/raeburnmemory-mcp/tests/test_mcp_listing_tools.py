"""The tools that list, count, update and forget by filter, through the SDK's in-memory client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from mcp import Client

from raeburnmemory.core.testing import interactions
from raeburnmemory.mcp import create_server
from raeburnmemory.memory_graph import MemoryGraph

Call = Callable[..., Awaitable[Any]]
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # the sample interactions' first moment


def _run(memory: MemoryGraph, steps: Any, **options: Any) -> Any:
    async def main() -> Any:
        async with Client(create_server(memory, **options)) as client:
            return await steps(client)

    return anyio.run(main)


@pytest.fixture
def seeded(memory: MemoryGraph) -> MemoryGraph:
    """The memory with 12 sample interactions (metadata ``{"n": i}``, 4 sessions, 3 agents)."""
    memory.batch_add(interactions(12))
    return memory


def test_list_memories_pages_with_a_cursor_and_filters(seeded: MemoryGraph, call: Call) -> None:
    async def steps(client: Client) -> Any:
        pages = [await call(client, "list_memories", {"limit": 5})]
        while pages[-1]["next_cursor"] is not None:
            arguments = {"limit": 5, "cursor": pages[-1]["next_cursor"]}
            pages.append(await call(client, "list_memories", arguments))
        filtered = await call(
            client,
            "list_memories",
            {"where": {"n": {"$gte": 6}}, "agent_id": "agent-0", "order": "desc"},
        )
        window = await call(
            client,
            "list_memories",
            {
                "since": (EPOCH + timedelta(seconds=2)).isoformat(),
                "until": (EPOCH + timedelta(seconds=3)).isoformat(),
            },
        )
        return pages, filtered, window

    pages, filtered, window = _run(seeded, steps)
    assert [len(page["memories"]) for page in pages] == [5, 5, 2]
    listed = [memory["prompt_id"] for page in pages for memory in page["memories"]]
    assert listed == [f"p{i}" for i in range(12)]
    assert [memory["prompt_id"] for memory in filtered["memories"]] == ["p9", "p6"]
    assert filtered["next_cursor"] is None
    assert [memory["prompt_id"] for memory in window["memories"]] == ["p2", "p3"]


def test_count_memories_takes_the_same_filters(seeded: MemoryGraph, call: Call) -> None:
    async def steps(client: Client) -> Any:
        return [
            await call(client, "count_memories"),
            await call(client, "count_memories", {"session_id": "session-1"}),
            await call(client, "count_memories", {"where": {"n": {"$in": [1, 2, 40]}}}),
        ]

    assert _run(seeded, steps) == [{"count": 12}, {"count": 3}, {"count": 2}]


def test_update_memory_changes_only_what_it_is_given(
    seeded: MemoryGraph, call: Call, refused: Call
) -> None:
    async def steps(client: Client) -> Any:
        changed = await call(
            client, "update_memory", {"prompt_id": "p3", "response": "a better answer"}
        )
        renamed = await call(
            client,
            "update_memory",
            {"prompt_id": "p3", "prompt_text": "how do I repot a cactus", "metadata": {"k": 1}},
        )
        nothing = await refused(client, "update_memory", {"prompt_id": "p3"})
        missing = await refused(client, "update_memory", {"prompt_id": "nope", "response": "x"})
        found = await call(client, "search_memory", {"query": "repot a cactus", "top_k": 1})
        return changed, renamed, nothing, missing, found

    changed, renamed, nothing, missing, found = _run(seeded, steps)
    assert changed["response_text"] == "a better answer"
    assert changed["prompt_text"] == "How do I plan a week of hiking in the alps? (question 3)"
    assert (renamed["prompt_text"], renamed["response_text"]) == (
        "how do I repot a cactus",
        "a better answer",
    )
    assert renamed["metadata"] == {"k": 1}
    assert "nothing changed" in nothing
    assert "no prompt with id 'nope'" in missing
    assert found["matches"][0]["prompt_id"] == "p3"
    assert seeded.get_interaction("p3").response_text == "a better answer"


def test_forget_matching_needs_a_filter_or_everything(
    seeded: MemoryGraph, call: Call, refused: Call
) -> None:
    async def steps(client: Client) -> Any:
        refusal = await refused(client, "forget_matching", {})
        by_filter = await call(client, "forget_matching", {"where": {"n": {"$lt": 3}}})
        by_time = await call(
            client,
            "forget_matching",
            {"session_id": "session-3", "before": (EPOCH + timedelta(seconds=11)).isoformat()},
        )
        bad = await refused(client, "forget_matching", {"where": {"n": {"$near": 1}}})
        left = await call(client, "count_memories")
        everything = await call(client, "forget_matching", {"everything": True})
        return refusal, by_filter, by_time, bad, left, everything

    refusal, by_filter, by_time, bad, left, everything = _run(seeded, steps)
    assert "everything=True" in refusal
    assert by_filter == {"count": 3}
    assert by_time == {"count": 2}  # p3 and p7; p11 is not before
    assert 'where["n"]' in bad
    assert left == {"count": 7}
    assert everything == {"count": 7}
    assert seeded.count() == 0


def test_read_only_and_scopes_leave_out_the_writing_listing_tools(seeded: MemoryGraph) -> None:
    async def steps(client: Client) -> Any:
        return {tool.name for tool in (await client.list_tools()).tools}

    read_only = _run(seeded, steps, read_only=True)
    assert {"list_memories", "count_memories"} <= read_only
    assert not {"update_memory", "forget_matching"} & read_only
    assert "forget_matching" not in _run(seeded, steps, scopes={"read", "write"})
    assert "update_memory" not in _run(seeded, steps, scopes={"read", "admin"})


def test_search_memory_filters_by_metadata(seeded: MemoryGraph, call: Call) -> None:
    async def steps(client: Client) -> Any:
        return await call(
            client, "search_memory", {"query": "question", "top_k": 12, "where": {"n": 4}}
        )

    found = _run(seeded, steps)
    assert [match["prompt_id"] for match in found["matches"]] == ["p4"]
