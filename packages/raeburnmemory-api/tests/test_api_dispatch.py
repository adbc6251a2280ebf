"""Quick searches run on the event loop; slow ones, and any during a pooled request, do not."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anyio
from fastapi.testclient import TestClient

from raeburnmemory.api import Settings, create_app
from raeburnmemory.api._dispatch import SearchDispatcher
from raeburnmemory.memory_graph import MemoryGraph


def _where(dispatcher: SearchDispatcher, pause: float = 0.0, pooled: bool = False) -> list[str]:
    """Run three searches; for each, whether it ran on the event loop's thread or another."""
    places: list[str] = []

    async def main() -> None:
        loop_thread = threading.get_ident()

        def search() -> None:
            time.sleep(pause)
            places.append("loop" if threading.get_ident() == loop_thread else "pool")

        for _ in range(3):
            if pooled:
                with dispatcher.pooled():
                    await dispatcher.run(search)
            else:
                await dispatcher.run(search)

    anyio.run(main)
    return places


def test_the_first_search_is_timed_in_the_pool_and_quick_ones_then_run_on_the_loop() -> None:
    assert _where(SearchDispatcher()) == ["pool", "loop", "loop"]


def test_searches_stay_in_the_pool_while_another_request_uses_the_graph_there() -> None:
    dispatcher = SearchDispatcher()
    _where(dispatcher)
    assert dispatcher.inline
    assert _where(dispatcher, pooled=True) == ["pool", "pool", "pool"]


def test_slow_searches_go_back_to_the_pool() -> None:
    dispatcher = SearchDispatcher(inline_below=0.005)
    _where(dispatcher)
    assert _where(dispatcher, pause=0.05) == ["loop", "pool", "pool"]
    assert not dispatcher.inline


def test_errors_of_a_search_reach_the_caller_from_either_place() -> None:
    dispatcher = SearchDispatcher()

    def fail() -> None:
        raise LookupError("no such thing")

    async def main() -> list[str]:
        seen = []
        for _ in range(2):
            try:
                await dispatcher.run(fail)
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


def test_the_similar_route_answers_the_same_from_the_loop_and_the_pool(
    tmp_path: Path, make_interaction: Any
) -> None:
    memory = _RecordingGraph(tmp_path / "graph.json", embedding_model=None)
    memory.threads = []
    app = create_app(Settings(embedding_model="none"), memory=memory)
    with TestClient(app) as client:
        client.post("/memory/interactions/batch", json={
            "interactions": [make_interaction(i) for i in range(20)]
        })  # fmt: skip
        body = {"text": "question number 7 about topic 7", "top_k": 3}
        answers = [client.post("/memory/similar", json=body).json() for _ in range(3)]
    memory.close()
    assert answers[0]["ids"][0] == "p7"
    assert answers[0] == answers[1] == answers[2]
    pooled = [name.startswith("AnyIO worker") for name in memory.threads]
    assert pooled == [True, False, False]
