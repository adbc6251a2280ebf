"""End to end: a real ``uvicorn raeburnmemory.api:app --workers 4`` on 127.0.0.1."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from raeburnmemory.api.client import MemoryClient
from raeburnmemory.api.errors import AuthenticationError, RequestTooLargeError
from raeburnmemory.core.testing import require_file_permissions, without_permission_override
from raeburnmemory.memory_graph import MemoryGraph

pytestmark = pytest.mark.slow

KEY = "end-to-end-key"
BACKENDS = ["json"]
if importlib.util.find_spec("raeburnmemory.sqlite") is not None:
    BACKENDS.append("sqlite")
if importlib.util.find_spec("raeburnmemory.postgres") is not None:
    BACKENDS.append("postgres")

#: The stores kept in one file, each skipped where it is not installed.
FILE_BACKENDS = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(name not in BACKENDS, reason=f"the {name} store is not installed"),
    )
    for name in ("json", "sqlite")
]

Body = Callable[..., dict[str, Any]]


@pytest.fixture
def fresh_connections() -> Iterator[httpx.Client]:
    """An httpx client that opens a new connection for every request.

    The workers share the listening socket, so new connections spread over them: the calls
    below land on different workers.
    """
    with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=30) as http:
        yield http


@pytest.mark.parametrize("backend", BACKENDS)
def test_four_workers_lose_nothing_and_read_their_writes(
    start_server: Callable[..., Any],
    make_interaction: Body,
    fresh_connections: httpx.Client,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    env = {
        "RAEBURN_STORAGE_BACKEND": backend,
        "RAEBURN_API_KEY": KEY,
        "RAEBURN_MAX_BODY_BYTES": "65536",
    }
    if backend == "postgres":
        env["RAEBURN_POSTGRES_DSN"] = request.getfixturevalue("api_pg_dsn")
        env["RAEBURN_STORE_OPTIONS"] = '{"schema": "api_end_to_end"}'
    server = start_server(env)
    memory = MemoryClient(server.url, KEY, http_client=fresh_connections, batch_size=100)

    def add(body: dict[str, Any]) -> str:
        return memory.add_interaction(
            body["prompt"], body["response"], body["agent"], body["session_id"]
        )

    # Concurrent writes through every worker: nothing lost.
    bodies = [make_interaction(i, f"s{i % 4}") for i in range(64)]
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(add, bodies))
    assert ids == [f"p{i}" for i in range(64)]
    assert memory.stats()["interactions"] == 64
    assert sum(len(memory.get_session(f"s{n}")) for n in range(4)) == 64

    # Read your writes: a write acknowledged by one worker is found at once by the next
    # request, whichever worker answers it.
    for index in range(100, 115):
        text = f"unique phrase {index} zebra{index}"
        add(make_interaction(index, "ryw", text=text))
        assert memory.get_similar_prompts(text, top_k=1) == [f"p{index}"]
        assert memory.get_interaction(f"p{index}").prompt_text == text

    # Deletes are seen by every worker too.
    memory.delete_session("ryw")
    for _ in range(6):
        assert "p105" not in memory.get_similar_prompts("unique phrase 105 zebra105", top_k=3)

    # The graph of a larger store is streamed in chunks, not sent in one piece.
    memory.batch_add([make_interaction(i, "big") for i in range(200, 440)])
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.stream("GET", f"{server.url}/memory/graph", headers=headers) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        graph = httpx.Response(200, content=response.read()).json()
    assert sum(node["kind"] == "prompt" for node in graph["nodes"]) == 64 + 240

    # Auth and the body limit on the real server.
    with pytest.raises(AuthenticationError):
        MemoryClient(server.url, http_client=fresh_connections).sessions()
    with pytest.raises(RequestTooLargeError):
        memory.search("x" * 70_000)
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}


def test_rate_limit_holds_for_the_whole_host(
    start_server: Callable[..., Any], fresh_connections: httpx.Client
) -> None:
    server = start_server({"RAEBURN_RATE_LIMIT": "20"})

    def one(_: int) -> int:
        return fresh_connections.get(f"{server.url}/memory/sessions").status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(one, range(60)))
    assert statuses.count(200) == 20
    assert statuses.count(429) == 40
    refused = httpx.get(f"{server.url}/memory/sessions")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["type"] == "RateLimitedError"
    assert httpx.get(f"{server.url}/healthz").status_code == 200  # never limited
    assert "RAEBURN_API_KEY is not set" in server.output()


def test_bad_setting_stops_start_up(start_server: Callable[..., Any]) -> None:
    server = start_server({"RAEBURN_RATE_LIMIT": "plenty"}, workers=1, wait=False)
    assert server.wait_exit(60) == 3  # uvicorn's start-up failure status
    output = server.output()
    assert "RAEBURN_RATE_LIMIT='plenty' is not a whole number" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("backend", FILE_BACKENDS)
def test_a_refused_batch_larger_than_a_chunk_writes_nothing(
    start_server: Callable[..., Any], make_interaction: Body, backend: str
) -> None:
    server = start_server({"RAEBURN_STORAGE_BACKEND": backend}, workers=1)
    url = f"{server.url}/memory"
    httpx.post(f"{url}/interactions", json=make_interaction(0), timeout=30).raise_for_status()
    big = [make_interaction(i) for i in range(10, 2110)]
    clashes = [
        make_interaction(0, text="other content for a stored prompt"),
        make_interaction(12, text="other content for a prompt of the batch"),
        {**make_interaction(5000), "response": {"id": "r13", "text": "taken"}},
    ]
    for clash in clashes:
        answer = httpx.post(f"{url}/interactions/batch", json={"interactions": [*big, clash]})
        assert answer.status_code == 409, answer.text
        assert "nothing was written" in answer.json()["error"]["message"]
        assert httpx.get(f"{url}/stats").json()["interactions"] == 1
        assert httpx.get(f"{url}/interactions/p10").status_code == 404
    again = [*big, make_interaction(0), big[0]]  # same content again is skipped
    added = httpx.post(f"{url}/interactions/batch", json={"interactions": again}, timeout=60)
    assert added.json() == {"added": [f"p{i}" for i in range(10, 2110)]}
    assert httpx.get(f"{url}/stats").json()["interactions"] == 2101


@pytest.mark.parametrize("backend", FILE_BACKENDS)
def test_a_store_file_it_may_not_read_stops_start_up_with_one_line(
    start_server: Callable[..., Any], tmp_path: Path, backend: str
) -> None:
    require_file_permissions(tmp_path)
    store = tmp_path / "locked" / ("graph.json" if backend == "json" else "graph.db")
    with MemoryGraph(store, embedding_model=None, storage_backend=backend) as graph:
        graph.add_interaction({"id": "p", "text": "x"}, {"id": "r", "text": "y"}, {"id": "a"}, "s")
    store.chmod(0)
    try:
        env = {"RAEBURN_STORAGE_BACKEND": backend, "RAEBURN_DB_PATH": str(store)}
        server = start_server(env, workers=1, wait=False, preexec_fn=without_permission_override)
        assert server.wait_exit(60) == 3  # uvicorn's start-up failure status
    finally:
        store.chmod(0o644)
    output = server.output()
    assert f"raeburnmemory API cannot start: {store}: permission denied" in output
    assert "Traceback" not in output
    assert sum("permission denied" in line for line in output.splitlines()) == 1
