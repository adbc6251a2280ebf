"""The sync and async clients, against an in-process application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from raeburnmemory.api import Settings, create_app
from raeburnmemory.api.client import AsyncMemoryClient, MemoryClient
from raeburnmemory.api.errors import (
    ApiError,
    AuthenticationError,
    InvalidRequestError,
    RateLimitedError,
    RequestTooLargeError,
    error_for,
)
from raeburnmemory.core.errors import (
    ConflictError,
    CorruptStoreError,
    InvalidInteractionError,
    NoEmbeddingsError,
    NotFoundError,
    StoreUnavailableError,
)
from raeburnmemory.core.model import Interaction

Body = Callable[..., dict[str, Any]]


def _client(test_client: TestClient, api_key: str | None = None) -> MemoryClient:
    return MemoryClient("http://testserver", api_key, http_client=test_client)


def test_sync_client_round_trip(client: TestClient, make_interaction: Body) -> None:
    memory = _client(client)
    with pytest.raises(NoEmbeddingsError):
        memory.get_similar_prompts("anything")
    body = make_interaction(1)
    stamp = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    prompt_id = memory.add_interaction(
        body["prompt"], body["response"], body["agent"], "s1", metadata={"k": 1}, timestamp=stamp
    )
    assert prompt_id == "p1"
    added = memory.batch_add([make_interaction(i) for i in range(2, 6)])
    assert added == ["p2", "p3", "p4", "p5"]
    assert memory.get_similar_prompts("question number 3 about topic 3", top_k=1) == ["p3"]
    hits = memory.search("question number 2", top_k=2, session_id="s1", since=stamp)
    assert hits[0].id == "p2"
    assert hits[0].response_text == "answer 2"
    item = memory.get_interaction("p1")
    assert isinstance(item, Interaction)
    assert item.timestamp == stamp
    assert item.metadata == {"k": 1}
    assert [i.prompt_id for i in memory.get_session("s1")] == ["p1", "p2", "p3", "p4", "p5"]
    assert memory.sessions() == ["s1"]
    assert memory.stats()["interactions"] == 5
    assert len([n for n in memory.node_link_data("s1")["nodes"] if n["kind"] == "prompt"]) == 5
    memory.delete_interaction("p5")
    with pytest.raises(NotFoundError):
        memory.get_interaction("p5")
    assert memory.delete_session("s1") == ["p1", "p2", "p3", "p4"]
    assert memory.health() == {"status": "ok"}


def test_batch_add_of_records_in_several_requests(
    client: TestClient, make_interaction: Body
) -> None:
    source = _client(client)
    source.batch_add([make_interaction(i, "copy") for i in range(7)])
    records = source.get_session("copy")
    source.delete_session("copy")
    chunked = MemoryClient("http://testserver", http_client=client, batch_size=3)
    assert chunked.batch_add(records) == [f"p{i}" for i in range(7)]
    again = source.get_session("copy")
    assert [r.prompt_text for r in again] == [r.prompt_text for r in records]
    assert [r.timestamp for r in again] == [r.timestamp for r in records]


def test_errors_come_back_as_the_library_types(client: TestClient, make_interaction: Body) -> None:
    memory = _client(client)
    memory.batch_add([make_interaction(1)])
    with pytest.raises(NotFoundError, match="nope"):
        memory.get_interaction("nope")
    with pytest.raises(NotFoundError):
        memory.get_session("nope")
    body = make_interaction(1)
    with pytest.raises(ConflictError):
        memory.add_interaction({"id": "p1", "text": "other"}, body["response"], body["agent"], "s1")
    with pytest.raises(InvalidInteractionError):
        memory.add_interaction({"id": "p9", "text": "t", "kind": "x"}, body["response"],
                               body["agent"], "s1")  # fmt: skip
    with pytest.raises(InvalidRequestError):
        memory.search("x", top_k=0)
    with pytest.raises(InvalidInteractionError):
        memory.add_interaction(body["prompt"], body["response"], body["agent"], "s1",
                               metadata={"bad": object()})  # fmt: skip


def test_auth_and_rate_limit_errors(make_app: Callable[..., TestClient]) -> None:
    test_client = make_app(api_key="k1", rate_limit=2)
    with pytest.raises(AuthenticationError):
        _client(test_client).sessions()
    good = _client(test_client, api_key="k1")
    assert good.sessions() == []
    with pytest.raises(RateLimitedError) as caught:
        good.sessions()
    assert 1 <= caught.value.retry_after <= 60


def test_unreachable_server(tmp_path: Any) -> None:
    with (
        MemoryClient("http://127.0.0.1:9", timeout=2) as memory,
        pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:9"),
    ):
        memory.sessions()


def test_error_mapping_of_unknown_answers() -> None:
    assert isinstance(error_for(413, None), RequestTooLargeError)
    assert isinstance(error_for(502, "<html>"), ApiError)
    corrupt = error_for(500, {"error": {"type": "CorruptStoreError", "message": "bad file"}})
    assert isinstance(corrupt, CorruptStoreError)
    assert str(corrupt) == "bad file"
    limited = error_for(429, {}, {"retry-after": "7"})
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == 7


def test_async_client(settings: Settings, make_interaction: Body) -> None:
    async def scenario() -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(transport=transport) as http,
                AsyncMemoryClient("http://testserver", http_client=http) as memory,
            ):
                with pytest.raises(NoEmbeddingsError):
                    await memory.search("x")
                first = make_interaction(1)
                ids = await asyncio.gather(
                    memory.add_interaction(
                        first["prompt"], first["response"], first["agent"], "s1"
                    ),
                    memory.batch_add([make_interaction(i) for i in range(2, 5)]),
                )
                assert ids == ["p1", ["p2", "p3", "p4"]]
                assert await memory.get_similar_prompts("question number 4", top_k=1) == ["p4"]
                assert (await memory.get_interaction("p2")).response_id == "r2"
                assert len(await memory.get_session("s1")) == 4
                assert await memory.sessions() == ["s1"]
                assert (await memory.stats())["interactions"] == 4
                assert (await memory.node_link_data())["directed"] is True
                await memory.delete_interaction("p1")
                with pytest.raises(NotFoundError):
                    await memory.delete_interaction("p1")
                assert await memory.delete_session("s1") == ["p2", "p3", "p4"]
                assert await memory.health() == {"status": "ok"}

    asyncio.run(scenario())
