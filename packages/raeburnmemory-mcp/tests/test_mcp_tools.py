"""Every tool through the SDK's in-memory client: typed schemas, structured results, errors."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from raeburnmemory.mcp import create_server, tool_names
from raeburnmemory.memory_graph import MemoryGraph

Call = Callable[..., Awaitable[Any]]

WRITING = {"record_memory", "forget_memory", "update_memory", "forget_matching"}


def _run(memory: MemoryGraph, steps: Any, **options: Any) -> Any:
    async def main() -> Any:
        async with Client(create_server(memory, **options)) as client:
            return await steps(client)

    return anyio.run(main)


def _record(session: str, prompt: str, response: str = "an answer", **more: Any) -> dict[str, Any]:
    return {"prompt": prompt, "response": response, "session_id": session, "agent_id": "a1", **more}


def test_every_tool_is_listed_with_input_and_output_schemas(memory: MemoryGraph) -> None:
    async def steps(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in _run(memory, steps)}
    assert sorted(tools) == sorted(tool_names())
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
        assert tool.description
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (tool.name not in WRITING)
    assert tools["search_memory"].input_schema["required"] == ["query"]
    assert tools["forget_memory"].annotations.destructive_hint is True
    assert tools["forget_matching"].annotations.destructive_hint is True
    assert tools["update_memory"].input_schema["required"] == ["prompt_id"]
    assert "where" in tools["search_memory"].input_schema["properties"]
    assert tools["list_memories"].output_schema["required"] == ["memories", "next_cursor"]


def test_record_makes_time_ordered_ids_and_the_memory_reads_back(
    memory: MemoryGraph, call: Call
) -> None:
    async def steps(client: Client) -> Any:
        first = await call(client, "record_memory", _record("s1", "how do I undo a commit"))
        second = await call(
            client,
            "record_memory",
            _record("s1", "and push it", agent_name="Helper", metadata={"user": "ana"}),
        )
        return first, second, await call(client, "get_memory", {"prompt_id": second["prompt_id"]})

    first, second, stored = _run(memory, steps)
    ids = [first["prompt_id"], first["response_id"], second["prompt_id"], second["response_id"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert {uuid.UUID(i).version for i in ids} == {7}
    assert stored["prompt_text"] == "and push it"
    assert stored["agent_name"] == "Helper"
    assert stored["metadata"] == {"user": "ana"}
    assert memory.get_interaction(first["prompt_id"]).response_id == first["response_id"]


def test_record_keeps_the_ids_and_time_it_is_given(memory: MemoryGraph, call: Call) -> None:
    async def steps(client: Client) -> Any:
        given = _record(
            "s1", "q", prompt_id="p1", response_id="r1", timestamp="2026-01-02T03:04:05Z"
        )
        return await call(client, "record_memory", given)

    assert _run(memory, steps)["prompt_id"] == "p1"
    item = memory.get_interaction("p1")
    assert item.response_id == "r1"
    assert item.timestamp.isoformat() == "2026-01-02T03:04:05+00:00"


def test_a_fact_is_recorded_alone_with_the_default_agent_and_session(
    memory: MemoryGraph, call: Call
) -> None:
    async def steps(client: Client) -> Any:
        return await call(client, "record_memory", {"prompt": "the office opens at nine"})

    recorded = _run(memory, steps)
    assert recorded["response_id"] is None
    assert (recorded["agent_id"], recorded["session_id"]) == ("default", "default")
    item = memory.get_interaction(recorded["prompt_id"])
    assert (item.prompt_text, item.response_id, item.session_id) == (
        "the office opens at nine",
        None,
        "default",
    )


def test_search_ranks_filters_and_keeps_the_server_running(memory: MemoryGraph, call: Call) -> None:
    memory.add_interaction(
        {"id": "old", "text": "rotate the api key"},
        {"id": "r0", "text": "restart"},
        {"id": "a2"},
        "s0",
        timestamp="2020-01-01T00:00:00Z",
    )

    async def steps(client: Client) -> Any:
        for text in ("rotate the api key", "bake bread", "rotate logs daily"):
            await call(client, "record_memory", _record("s1", text))
        best = await call(client, "search_memory", {"query": "rotate the api key", "top_k": 2})
        agent = await call(
            client, "search_memory", {"query": "rotate the api key", "agent_id": "a2"}
        )
        recent = await call(
            client, "search_memory", {"query": "rotate the api key", "since": "2025-01-01"}
        )
        strict = await call(client, "search_memory", {"query": "bake bread", "min_score": 0.99})
        return best, agent, recent, strict

    best, agent, recent, strict = _run(memory, steps)
    assert best["mode"] == "vector"
    assert len(best["matches"]) == 2
    assert best["matches"][0]["prompt_text"] == "rotate the api key"
    assert best["matches"][0]["score"] >= best["matches"][1]["score"]
    assert [m["prompt_id"] for m in agent["matches"]] == ["old"]
    assert "old" not in {m["prompt_id"] for m in recent["matches"]}
    assert [m["prompt_text"] for m in strict["matches"]] == ["bake bread"]


def test_history_lists_sessions_and_stats(memory: MemoryGraph, call: Call) -> None:
    async def steps(client: Client) -> Any:
        for index in range(4):
            await call(client, "record_memory", _record("chat", f"question {index}"))
        await call(client, "record_memory", _record("other", "elsewhere"))
        return (
            await call(client, "session_history", {"session_id": "chat"}),
            await call(client, "session_history", {"session_id": "chat", "last": 2}),
            await call(client, "list_sessions"),
            await call(client, "memory_stats"),
        )

    history, last_two, sessions, stats = _run(memory, steps)
    assert [i["prompt_text"] for i in history["interactions"]] == [
        f"question {i}" for i in range(4)
    ]
    assert history["total"] == 4
    assert [i["prompt_text"] for i in last_two["interactions"]] == ["question 2", "question 3"]
    assert last_two["total"] == 4
    assert sessions == {"sessions": ["chat", "other"]}
    counts = {key: stats[key] for key in ("interactions", "sessions", "agents", "vectors")}
    assert counts == {"interactions": 5, "sessions": 2, "agents": 1, "vectors": 5}
    assert stats["encoder"] == memory.encoder_name
    assert stats["storage_backend"] == "json"
    assert stats["read_only"] is False


def test_forget_one_memory_or_one_session_and_never_everything(
    memory: MemoryGraph, call: Call, refused: Call
) -> None:
    async def steps(client: Client) -> Any:
        kept = await call(client, "record_memory", _record("keep", "stays"))
        one = await call(client, "record_memory", _record("drop", "goes first"))
        await call(client, "record_memory", _record("drop", "goes with the session"))
        by_id = await call(client, "forget_memory", {"prompt_id": one["prompt_id"]})
        by_session = await call(client, "forget_memory", {"session_id": "drop"})
        refusals = [
            await refused(client, "forget_memory", arguments)
            for arguments in ({}, {"prompt_id": kept["prompt_id"], "session_id": "keep"})
        ]
        return kept, one, by_id, by_session, refusals

    kept, one, by_id, by_session, refusals = _run(memory, steps)
    assert by_id == {"forgotten": [one["prompt_id"]], "count": 1}
    assert by_session["count"] == 1
    assert memory.sessions() == ["keep"]
    assert memory.get_interaction(kept["prompt_id"]).prompt_text == "stays"
    assert all("exactly one of prompt_id or session_id" in text for text in refusals)


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("get_memory", {"prompt_id": "nope"}, "no prompt with id 'nope'"),
        ("session_history", {"session_id": "nope"}, "no session with id 'nope'"),
        ("forget_memory", {"session_id": "nope"}, "no session with id 'nope'"),
        ("search_memory", {"query": "x", "since": "yesterday"}, "is not an ISO 8601 date"),
        ("search_memory", {"query": "x", "top_k": 0}, "top_k"),
        ("search_memory", {"query": "x", "mode": "fuzzy"}, "mode"),
        ("record_memory", {"prompt": "x", "expires_at": "next tuesday"}, "expires_at"),
        ("record_memory", _record("", "q"), "must not be empty or only whitespace"),
        ("record_memory", _record("s", "q", prompt_id="p1", response="other"), "p1"),
    ],
)
def test_a_refused_call_is_a_tool_error_with_the_message_and_the_server_goes_on(
    memory: MemoryGraph,
    call: Call,
    refused: Call,
    tool: str,
    arguments: dict[str, Any],
    message: str,
) -> None:
    memory.add_interaction({"id": "p1", "text": "q"}, {"id": "r1", "text": "a"}, {"id": "a1"}, "s")

    async def steps(client: Client) -> Any:
        text = await refused(client, tool, arguments)
        return text, await call(client, "get_memory", {"prompt_id": "p1"})

    text, after = _run(memory, steps)
    assert message in text
    assert after["prompt_id"] == "p1"


def test_a_search_of_an_empty_store_says_so(memory: MemoryGraph, refused: Call) -> None:
    async def steps(client: Client) -> Any:
        return await refused(client, "search_memory", {"query": "anything"})

    assert "holds no embeddings yet" in _run(memory, steps)


def test_read_only_offers_no_writing_tool(memory: MemoryGraph, call: Call, refused: Call) -> None:
    memory.add_interaction({"id": "p1", "text": "q"}, {"id": "r1", "text": "a"}, {"id": "a1"}, "s")

    async def steps(client: Client) -> Any:
        names = {tool.name for tool in (await client.list_tools()).tools}
        refusal = await refused(client, "forget_memory", {"prompt_id": "p1"})
        return names, refusal, await call(client, "memory_stats")

    names, refusal, stats = _run(memory, steps, read_only=True)
    assert "forget_memory" in refusal
    assert names == set(tool_names()) - WRITING == set(tool_names(read_only=True))
    assert stats["read_only"] is True
    assert memory.get_interaction("p1").prompt_text == "q"


def test_descriptions_replace_the_built_in_ones_they_name(memory: MemoryGraph) -> None:
    async def steps(client: Client) -> Any:
        return {tool.name: tool.description for tool in (await client.list_tools()).tools}

    described = _run(memory, steps, descriptions={"search_memory": "Look here first."})
    assert described["search_memory"] == "Look here first."
    assert described["get_memory"] == "One recorded interaction, by its prompt id."


def test_keyword_search_on_the_json_store(memory: MemoryGraph, call: Call) -> None:
    memory.add_interaction(
        {"id": "p1", "text": "bake sourdough bread"}, {"id": "r1", "text": "a"}, {"id": "a1"}, "s"
    )

    async def steps(client: Client) -> Any:
        return await call(client, "search_memory", {"query": "sourdough", "mode": "keyword"})

    found = _run(memory, steps)
    assert [match["prompt_id"] for match in found["matches"]] == ["p1"]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_keyword_and_hybrid_search_on_sqlite(tmp_path: Path, call: Call, mode: str) -> None:
    pytest.importorskip("raeburnmemory.sqlite")
    with MemoryGraph(tmp_path / "graph.db", embedding_model=None, storage_backend="sqlite") as db:

        async def steps(client: Client) -> Any:
            for text in ("rotate the api key", "bake sourdough bread", "water the plants"):
                await call(client, "record_memory", _record("s1", text))
            return await call(client, "search_memory", {"query": "sourdough", "mode": mode})

        found = _run(db, steps)
    assert found["mode"] == mode
    assert found["matches"][0]["prompt_text"] == "bake sourdough bread"


@pytest.mark.parametrize(
    ("scopes", "offered"),
    [
        ({"read"}, set(tool_names(read_only=True))),
        ({"write"}, {"record_memory", "update_memory"}),
        ({"admin"}, {"forget_memory", "forget_matching"}),
        ({"read", "write", "admin"}, set(tool_names())),
    ],
)
def test_scopes_offer_only_the_tools_they_allow(
    memory: MemoryGraph, scopes: set[str], offered: set[str]
) -> None:
    async def steps(client: Client) -> Any:
        return {tool.name for tool in (await client.list_tools()).tools}

    assert _run(memory, steps, scopes=scopes) == offered
