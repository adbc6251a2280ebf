"""Recording over HTTP takes what the library takes: text or objects, generated ids, a prompt
without a response, default agent and session, an expiry.

Against a real ``uvicorn raeburnmemory.api:app`` (one worker, a JSON store, the offline encoder).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from raeburnmemory.api.client import AsyncMemoryClient, MemoryClient
from raeburnmemory.api.testing import Server
from raeburnmemory.core.errors import NotFoundError


def test_a_plain_prompt_is_a_memory_of_its_own(server: Server, memory: MemoryClient) -> None:
    answer = httpx.post(server.url + "/memory/interactions", json={"prompt": "the boiler is red"})
    assert answer.status_code == 201, answer.text
    prompt_id = answer.json()["prompt_id"]
    stored = memory.get_interaction(prompt_id)
    assert (stored.prompt_text, stored.response_id, stored.response_text) == (
        "the boiler is red",
        None,
        None,
    )
    assert (stored.agent_id, stored.session_id) == ("default", "default")
    shown = httpx.get(server.url + f"/memory/interactions/{prompt_id}").json()
    assert shown["response_id"] is None


def test_the_client_records_text_and_generates_ids(memory: MemoryClient) -> None:
    first = memory.add_interaction("where is the key?", "under the mat", "butler", "house")
    second = memory.add_interaction({"text": "and the spare?"}, {"text": "with the neighbour"})
    assert first != second
    stored = memory.get_interaction(first)
    assert (stored.response_text, stored.agent_id, stored.session_id) == (
        "under the mat",
        "butler",
        "house",
    )
    assert memory.get_interaction(second).response_text == "with the neighbour"


def test_an_expired_memory_is_never_read_back(memory: MemoryClient) -> None:
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    gone = memory.add_interaction("a stale coupon code", expires_at=past, session_id="coupons")
    kept = memory.add_interaction(
        "a fresh coupon code", expires_at=past + timedelta(days=1), session_id="coupons"
    )
    with pytest.raises(NotFoundError):
        memory.get_interaction(gone)
    assert memory.get_interaction(kept).prompt_text == "a fresh coupon code"
    assert memory.count(session_id="coupons") == 1


def test_a_bad_expiry_is_a_422_naming_the_field(server: Server) -> None:
    answer = httpx.post(
        server.url + "/memory/interactions", json={"prompt": "x", "expires_at": "next tuesday"}
    )
    assert answer.status_code == 422
    assert "expires_at" in answer.text


def test_the_async_client_records_a_prompt_alone(server: Server) -> None:
    async def scenario() -> str | None:
        async with AsyncMemoryClient(server.url) as memory:
            prompt_id = await memory.add_interaction("an async note")
            return (await memory.get_interaction(prompt_id)).response_id

    assert asyncio.run(scenario()) is None
