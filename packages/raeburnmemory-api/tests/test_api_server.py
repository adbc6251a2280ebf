"""End to end: a real ``uvicorn raeburnmemory.api:app --workers 4`` on 127.0.0.1."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from raeburnmemory.api.client import MemoryClient
from raeburnmemory.api.errors import AuthenticationError, RequestTooLargeError

pytestmark = pytest.mark.slow

KEY = "end-to-end-key"
BACKENDS = ["json"]
if importlib.util.find_spec("raeburnmemory.sqlite") is not None:
    BACKENDS.append("sqlite")

Body = Callable[..., dict[str, Any]]


def _add_one(url: str, body: dict[str, Any]) -> str:
    # A new client per call: a new connection, so the calls spread over the workers.
    with MemoryClient(url, KEY) as memory:
        return memory.add_interaction(
            body["prompt"], body["response"], body["agent"], body["session_id"]
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_four_workers_lose_nothing_and_read_their_writes(
    start_server: Callable[..., Any], make_interaction: Body, backend: str
) -> None:
    server = start_server(
        {
            "RAEBURN_STORAGE_BACKEND": backend,
            "RAEBURN_API_KEY": KEY,
            "RAEBURN_MAX_BODY_BYTES": "4096",
        }
    )
    bodies = [make_interaction(i, f"s{i % 4}") for i in range(120)]
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda body: _add_one(server.url, body), bodies))
    assert ids == [f"p{i}" for i in range(120)]
    with MemoryClient(server.url, KEY) as memory:
        assert memory.stats()["interactions"] == 120
        assert sum(len(memory.get_session(f"s{n}")) for n in range(4)) == 120

    # Read your writes: each write, acknowledged by one worker, is found at once through a
    # fresh connection, whichever worker answers.
    for index in range(200, 230):
        body = make_interaction(index, "ryw", text=f"unique phrase {index} zebra{index}")
        _add_one(server.url, body)
        with MemoryClient(server.url, KEY) as reader:
            assert reader.get_similar_prompts(body["prompt"]["text"], top_k=1) == [f"p{index}"]
        with MemoryClient(server.url, KEY) as reader:
            assert reader.get_interaction(f"p{index}").prompt_text == body["prompt"]["text"]

    # Deletes are seen by every worker too.
    with MemoryClient(server.url, KEY) as memory:
        memory.delete_session("ryw")
    for _ in range(8):
        with MemoryClient(server.url, KEY) as reader:
            found = reader.get_similar_prompts("unique phrase 205 zebra205", top_k=3)
            assert "p205" not in found

    # Auth and body limit on the real server.
    with MemoryClient(server.url) as anonymous, pytest.raises(AuthenticationError):
        anonymous.sessions()
    with MemoryClient(server.url, KEY) as memory, pytest.raises(RequestTooLargeError):
        memory.search("x" * 8000)
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}


def test_graph_is_streamed(start_server: Callable[..., Any], make_interaction: Body) -> None:
    server = start_server({}, workers=1)
    with MemoryClient(server.url) as memory:
        memory.batch_add([make_interaction(i, "big") for i in range(600)])
        with httpx.stream("GET", f"{server.url}/memory/graph") as response:
            assert response.headers.get("transfer-encoding") == "chunked"
            assert "content-length" not in response.headers
            chunks = list(response.iter_raw())
        assert len(chunks) > 1
    assert "Application startup complete" in server.output()
    assert "RAEBURN_API_KEY is not set" in server.output()


def test_rate_limit_holds_for_the_whole_host(start_server: Callable[..., Any]) -> None:
    server = start_server({"RAEBURN_RATE_LIMIT": "20"})

    def one(_: int) -> int:
        # A new connection each time, so the requests land on different workers.
        return httpx.get(
            f"{server.url}/memory/sessions", headers={"Connection": "close"}
        ).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(one, range(60)))
    assert statuses.count(200) == 20
    assert statuses.count(429) == 40
    refused = httpx.get(f"{server.url}/memory/sessions")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["type"] == "RateLimitedError"


def test_bad_setting_stops_start_up(start_server: Callable[..., Any]) -> None:
    server = start_server({"RAEBURN_RATE_LIMIT": "plenty"}, workers=2, wait=False)
    assert server.wait_exit(60) != 0
    output = server.output()
    assert "RAEBURN_RATE_LIMIT='plenty' is not a whole number" in output
    assert "Traceback" not in output
