"""Quick searches run on the event loop; slow ones, costly ones and ones that would wait do not."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from raeburnmemory.api import Settings, create_app
from raeburnmemory.api._dispatch import SearchDispatcher
from raeburnmemory.memory_graph import MemoryGraph


def _where(
    dispatcher: SearchDispatcher,
    *,
    pause: float = 0.0,
    cheap: bool = True,
    would_wait: bool = False,
) -> list[str]:
    """Run three searches; for each, whether it ran on the event loop's thread or another."""
    places: list[str] = []

    async def main() -> None:
        loop_thread = threading.get_ident()

        def search() -> str:
            time.sleep(pause)
            places.append("loop" if threading.get_ident() == loop_thread else "pool")
            return "hits"

        def nowait() -> str | None:
            return None if would_wait else search()

        for _ in range(3):
            assert await dispatcher.run(nowait, search, cheap=cheap) == "hits"

    anyio.run(main)
    return places


# Routing tests use a generous bound, so that a loaded machine cannot make a trivial search "slow".
_ANY_SPEED = 1.0


def test_the_first_search_is_timed_in_the_pool_and_quick_ones_then_run_on_the_loop() -> None:
    assert _where(SearchDispatcher(inline_below=_ANY_SPEED)) == ["pool", "loop", "loop"]


def test_costly_requests_and_searches_that_would_wait_go_to_the_pool() -> None:
    dispatcher = SearchDispatcher(inline_below=_ANY_SPEED)
    _where(dispatcher)
    assert dispatcher.quick
    assert _where(dispatcher, cheap=False) == ["pool", "pool", "pool"]
    assert _where(dispatcher, would_wait=True) == ["pool", "pool", "pool"]


def test_slow_searches_go_back_to_the_pool() -> None:
    # One 0.1 s search lifts the running average (smoothing 0.2) to at least 0.02 s.
    dispatcher = SearchDispatcher(inline_below=0.015)
    _where(dispatcher)
    assert _where(dispatcher, pause=0.1) == ["loop", "pool", "pool"]
    assert not dispatcher.quick


def test_errors_of_a_search_reach_the_caller_from_either_place() -> None:
    dispatcher = SearchDispatcher()

    def fail() -> None:
        raise LookupError("no such thing")

    async def main() -> list[str]:
        seen = []
        for _ in range(2):
            try:
                await dispatcher.run(fail, fail, cheap=True)
            except LookupError as exc:
                seen.append(str(exc))
        return seen

    assert anyio.run(main) == ["no such thing", "no such thing"]


class _RecordingGraph(MemoryGraph):
    """A memory graph that notes which thread each search ran on."""

    threads: list[str]

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return super().search(*args, **kwargs)


def _pooled(threads: list[str]) -> list[bool]:
    return [name.startswith("AnyIO worker") for name in threads]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, _RecordingGraph, MemoryGraph]]:
    """An application serving a recording graph, and a second graph on the same store."""
    path = tmp_path / "graph.json"
    memory = _RecordingGraph(path, embedding_model=None)
    memory.threads = []
    app = create_app(Settings(embedding_model="none"), memory=memory)
    with TestClient(app) as client, MemoryGraph(path, embedding_model=None) as other:
        # Where a search runs is what these tests check, not how fast the machine is.
        app.state.raeburn.searches.inline_below = _ANY_SPEED
        yield client, memory, other
    memory.close()


def test_the_similar_route_answers_the_same_from_the_loop_and_the_pool(
    served: tuple[TestClient, _RecordingGraph, MemoryGraph],
    make_interaction: Callable[..., dict[str, Any]],
) -> None:
    client, memory, _ = served
    batch = {"interactions": [make_interaction(i) for i in range(20)]}
    client.post("/memory/interactions/batch", json=batch)
    body = {"text": "question number 7 about topic 7", "top_k": 3}
    answers = [client.post("/memory/similar", json=body).json() for _ in range(3)]
    assert _pooled(memory.threads) == [True, False, False]
    assert answers[0]["ids"][0] == "p7"
    assert answers[0] == answers[1] == answers[2]
    # Many hits: a costlier search, left to the pool.
    client.post("/memory/similar", json={**body, "top_k": 100})
    assert _pooled(memory.threads)[-1]


@pytest.fixture
def searched(
    served: tuple[TestClient, _RecordingGraph, MemoryGraph],
    make_interaction: Callable[..., dict[str, Any]],
) -> tuple[TestClient, _RecordingGraph, MemoryGraph]:
    """``served`` after one interaction and three searches (the first builds the index)."""
    client = served[0]
    client.post("/memory/interactions", json=make_interaction(1))
    for _ in range(3):
        client.post("/memory/similar", json={"text": "question number 1", "top_k": 1})
    return served


def test_a_search_that_must_read_another_writers_changes_runs_in_the_pool(
    searched: tuple[TestClient, _RecordingGraph, MemoryGraph],
    make_interaction: Callable[..., dict[str, Any]],
) -> None:
    client, memory, other = searched
    assert _pooled(memory.threads) == [True, False, False]
    body = {"text": "question number 42 about topic 42", "top_k": 1}
    other.add_interaction(**_arguments(make_interaction(42)))  # another process's write
    assert client.post("/memory/similar", json=body).json()["ids"] == ["p42"]
    assert _pooled(memory.threads)[-1]  # catching up takes the writers' lock: not on the loop
    client.post("/memory/similar", json=body)
    assert not _pooled(memory.threads)[-1]  # up to date again


def test_health_checks_are_answered_while_another_process_holds_the_store(
    searched: tuple[TestClient, _RecordingGraph, MemoryGraph],
    make_interaction: Callable[..., dict[str, Any]],
) -> None:
    client, _, other = searched
    body = {"text": "question number 1 about topic 1", "top_k": 1}
    other.add_interaction(**_arguments(make_interaction(2)))
    with _holding(other):
        searching = threading.Thread(
            target=client.post, args=("/memory/similar",), kwargs={"json": body}
        )
        searching.start()
        time.sleep(0.2)  # the search now waits for the lock, in a worker thread
        began = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        assert time.perf_counter() - began < 0.5
    searching.join(10)
    assert not searching.is_alive()


def _arguments(body: dict[str, Any]) -> dict[str, Any]:
    keys = ("prompt", "response", "agent", "session_id", "metadata")
    return {key: body[key] for key in keys if key in body}


@contextlib.contextmanager
def _holding(memory: MemoryGraph) -> Iterator[None]:
    """Hold the writers' lock of another graph's store, as a long compaction would."""
    with memory.store._locked(write=True):  # type: ignore[attr-defined]
        yield
