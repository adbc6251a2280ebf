"""Listing, counting, updating and forgetting over HTTP, and ``on_conflict`` on the add routes.

Against a real ``uvicorn raeburnmemory.api:app`` (one worker, a JSON store with the offline
encoder), through raw HTTP for the shapes and through both clients. Each test works in sessions
and metadata of its own, so they share one server.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from raeburnmemory.api.client import AsyncMemoryClient, MemoryClient
from raeburnmemory.api.testing import Server
from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidCursorError,
    InvalidFilterError,
    NotFoundError,
)

START = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def _record(index: int, session: str, *, agent: str = "agent-1", **metadata: Any) -> dict[str, Any]:
    return {
        "prompt": {"id": f"{session}-p{index}", "text": f"question {index} in {session}"},
        "response": {"id": f"{session}-r{index}", "text": f"answer {index}"},
        "agent": {"id": agent},
        "session_id": session,
        "metadata": {"n": index, **metadata},
        "timestamp": (START + timedelta(minutes=index)).isoformat(),
    }


def _seed(memory: MemoryClient, session: str, count: int, **metadata: Any) -> list[str]:
    return memory.batch_add([_record(i, session, **metadata) for i in range(count)])


def test_listing_pages_walk_every_match_once_in_time_order(
    server: Server, memory: MemoryClient
) -> None:
    ids = _seed(memory, "walk", 7)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"session_id": "walk", "limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        answer = httpx.get(server.url + "/memory/interactions", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"items", "next_cursor"}
        seen += [item["prompt_id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert pages == 3
    newest = httpx.get(
        server.url + "/memory/interactions",
        params={"session_id": "walk", "order": "desc", "limit": 2},
    ).json()
    assert [item["prompt_id"] for item in newest["items"]] == ids[::-1][:2]


def test_listing_filters_by_metadata_time_and_agent(memory: MemoryClient) -> None:
    ids = _seed(memory, "filters", 6, tag="filters")
    page = memory.interactions(where={"tag": "filters", "n": {"$gte": 4}})
    assert [item.prompt_id for item in page.items] == ids[4:]
    assert page.next_cursor is None
    window = memory.interactions(
        session_id="filters",
        since=START + timedelta(minutes=1),
        until=(START + timedelta(minutes=2)).timestamp(),
    )
    assert [item.prompt_id for item in window] == ids[1:3]
    assert memory.interactions(session_id="filters", agent_id="nobody").items == []
    first = memory.interactions(session_id="filters", limit=4)
    rest = memory.interactions(session_id="filters", limit=4, cursor=first.next_cursor)
    assert [item.prompt_id for item in [*first.items, *rest.items]] == ids


def test_count_takes_the_listing_filters(server: Server, memory: MemoryClient) -> None:
    _seed(memory, "counted", 5, tag="counted")
    answer = httpx.get(
        server.url + "/memory/count", params={"where": '{"tag": "counted", "n": {"$lt": 2}}'}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"count": 2}
    assert memory.count(session_id="counted") == 5
    assert memory.count(session_id="counted", since=START + timedelta(minutes=3)) == 2


def test_a_bad_filter_or_cursor_is_a_400_naming_it(server: Server, memory: MemoryClient) -> None:
    _seed(memory, "bad", 3)
    for params in ({"where": "{not json"}, {"where": '{"n": {"$near": 1}}'}):
        answer = httpx.get(server.url + "/memory/interactions", params=params)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["type"] == "InvalidFilterError"
        assert "where" in answer.json()["error"]["message"]
    counted = httpx.get(server.url + "/memory/count", params={"where": "[1, 2]"})
    assert counted.status_code == 400, counted.text
    answer = httpx.get(server.url + "/memory/interactions", params={"cursor": "garbage"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["type"] == "InvalidCursorError"
    with pytest.raises(InvalidFilterError):
        memory.interactions(where={"n": {"$bogus": 1}})
    cursor = memory.interactions(session_id="bad", limit=1).next_cursor
    with pytest.raises(InvalidCursorError, match="other filters"):
        memory.interactions(session_id="other", limit=1, cursor=cursor)
    overview = httpx.get(server.url + "/memory/session-overview", params={"cursor": cursor})
    assert overview.status_code == 400, overview.text


def test_patch_changes_only_the_parts_given(server: Server, memory: MemoryClient) -> None:
    (prompt_id,) = _seed(memory, "patched", 1)
    url = f"{server.url}/memory/interactions/{prompt_id}"
    answer = httpx.patch(url, json={"response": "a better answer", "metadata": {"seen": True}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["response_text"], body["metadata"]) == ("a better answer", {"seen": True})
    assert body["prompt_text"] == "question 0 in patched"
    assert memory.get_interaction(prompt_id).response_text == "a better answer"
    again = memory.update_interaction(
        prompt_id, prompt_text="a new question", response={"text": "new", "id": "patched-r9"}
    )
    assert (again.prompt_text, again.response_id) == ("a new question", "patched-r9")
    assert again.metadata == {"seen": True}
    stored = memory.get_interaction(prompt_id)
    assert (stored.prompt_text, stored.response_text) == ("a new question", "new")
    missing = httpx.patch(server.url + "/memory/interactions/nothing-here", json={"metadata": {}})
    assert missing.status_code == 404, missing.text
    with pytest.raises(NotFoundError):
        memory.update_interaction("nothing-here", metadata={})
    unknown = httpx.patch(url, json={"colour": "blue"})
    assert unknown.status_code == 422, unknown.text


def test_patch_of_the_metadata_alone_is_stored(server: Server, memory: MemoryClient) -> None:
    (prompt_id,) = _seed(memory, "meta-only", 1)
    changed = memory.update_interaction(prompt_id, metadata={"reviewed": True})
    assert changed.metadata == {"reviewed": True}
    assert memory.get_interaction(prompt_id).metadata == {"reviewed": True}


def test_forget_deletes_what_the_filters_select(server: Server, memory: MemoryClient) -> None:
    _seed(memory, "forgotten", 4, tag="forgotten")
    _seed(memory, "kept", 2, tag="kept")
    refused = httpx.post(server.url + "/memory/forget", json={})
    assert refused.status_code == 422, refused.text
    assert "everything" in refused.json()["error"]["message"]
    with pytest.raises(ConfigurationError):
        memory.forget()
    answer = httpx.post(
        server.url + "/memory/forget", json={"where": {"tag": "forgotten", "n": {"$lt": 2}}}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"deleted": 2}
    assert memory.forget(session_id="forgotten", before=START + timedelta(minutes=3)) == 1
    assert [item.prompt_id for item in memory.interactions(session_id="forgotten")] == [
        "forgotten-p3"
    ]
    assert memory.count(session_id="kept") == 2


def test_session_overview_pages_newest_activity_first(server: Server, memory: MemoryClient) -> None:
    late = START + timedelta(days=400)
    for number, session in enumerate(["ov-a", "ov-b", "ov-c"]):
        records = [_record(i, session, agent=f"agent-{i % 2}") for i in range(number + 1)]
        for offset, record in enumerate(records):
            record["timestamp"] = (late + timedelta(hours=number, minutes=offset)).isoformat()
        memory.batch_add(records)
    answer = httpx.get(
        server.url + "/memory/session-overview", params={"limit": 2, "since": late.isoformat()}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"items", "next_cursor"}
    assert body["items"][0] == {
        "session_id": "ov-c",
        "interactions": 3,
        "first": (late + timedelta(hours=2)).isoformat(),
        "last": (late + timedelta(hours=2, minutes=2)).isoformat(),
        "agents": ["agent-0", "agent-1"],
    }
    rest = memory.session_overview(since=late, limit=2, cursor=body["next_cursor"])
    assert [summary.session_id for summary in rest.items] == ["ov-a"]
    assert rest.next_cursor is None
    only = memory.session_overview(since=late, agent_id="agent-1")
    assert [(s.session_id, s.interactions, s.agents) for s in only.items] == [
        ("ov-c", 1, ("agent-1",)),
        ("ov-b", 1, ("agent-1",)),
    ]


def test_on_conflict_on_both_add_routes(server: Server, memory: MemoryClient) -> None:
    first = _record(0, "conflicts")
    memory.batch_add([first])
    changed = {**first, "response": {"id": "conflicts-r0", "text": "changed"}}
    refused = httpx.post(server.url + "/memory/interactions", json=changed)
    assert refused.status_code == 409, refused.text
    skipped = httpx.post(
        server.url + "/memory/interactions", json=changed, params={"on_conflict": "skip"}
    )
    assert skipped.status_code == 201, skipped.text
    assert memory.get_interaction("conflicts-p0").response_text == "answer 0"
    bad = httpx.post(
        server.url + "/memory/interactions", json=changed, params={"on_conflict": "merge"}
    )
    assert bad.status_code == 422, bad.text
    prompt_id = memory.add_interaction(
        changed["prompt"],
        changed["response"],
        changed["agent"],
        "conflicts",
        timestamp=changed["timestamp"],
        on_conflict="replace",
    )
    assert memory.get_interaction(prompt_id).response_text == "changed"
    batch = [
        {**first, "response": {"id": "conflicts-r0", "text": "third"}},
        _record(1, "conflicts"),
    ]
    with pytest.raises(ConflictError):
        memory.batch_add(batch)
    assert memory.batch_add(batch, on_conflict="skip") == ["conflicts-p1"]
    assert memory.get_interaction("conflicts-p0").response_text == "changed"
    answer = httpx.post(
        server.url + "/memory/interactions/batch",
        json={"interactions": batch},
        params={"on_conflict": "replace"},
    )
    assert answer.status_code == 200, answer.text
    assert memory.get_interaction("conflicts-p0").response_text == "third"


def test_the_async_client_lists_counts_updates_and_forgets(server: Server) -> None:
    async def scenario() -> None:
        async with AsyncMemoryClient(server.url) as memory:
            await memory.batch_add([_record(i, "async", tag="async") for i in range(3)])
            page = await memory.interactions(session_id="async", limit=2)
            assert [item.prompt_id for item in page.items] == ["async-p0", "async-p1"]
            rest = await memory.interactions(session_id="async", limit=2, cursor=page.next_cursor)
            assert [item.prompt_id for item in rest.items] == ["async-p2"]
            assert await memory.count(where={"tag": "async"}) == 3
            updated = await memory.update_interaction(
                "async-p1", response="done", metadata={"tag": "done"}
            )
            assert (updated.response_text, updated.metadata) == ("done", {"tag": "done"})
            overview = await memory.session_overview(agent_id="agent-1", limit=10_000)
            assert "async" in [summary.session_id for summary in overview.items]
            assert await memory.forget(where={"tag": "async"}) == 2
            assert await memory.count(session_id="async") == 1

    asyncio.run(scenario())


def test_similar_passes_where_to_the_search(server: Server, memory: MemoryClient) -> None:
    memory.batch_add([_record(i, "similar", user="ana" if i % 2 else "bo") for i in range(4)])
    answer = httpx.post(
        server.url + "/memory/similar",
        json={"text": "question 2 in similar", "top_k": 4, "where": {"user": "ana"}},
    )
    assert answer.status_code == 200, answer.text
    assert {hit["metadata"]["user"] for hit in answer.json()["hits"]} == {"ana"}
    hits = memory.search("question 2 in similar", top_k=4, where={"user": "bo"})
    assert {hit.metadata["user"] for hit in hits} == {"bo"}
