"""The contract's cases about ``update_interaction``: what it embeds again and who sees it.

:class:`UpdateContract` is mixed into
:class:`~raeburnmemory.core.testing.graph_contract.MemoryGraphContract`, so every backend runs
it; it uses that contract's ``options`` fixture.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing.processes import LineProcess

__all__ = ["CountingEncoder", "UpdateContract", "reader_process"]

_Ask = Callable[[str, str], list[list[Any]]]


class CountingEncoder:
    """A real encoder (hashing) that counts how often it is called and how many texts."""

    def __init__(self) -> None:
        self.inner = HashingEncoder()
        self.calls = 0
        self.texts: list[str] = []
        self.name = self.inner.name
        self.dim = self.inner.dim

    def encode(self, texts: list[str]) -> Any:
        """Encode with the hashing encoder and count the call."""
        self.calls += 1
        self.texts += texts
        return self.inner.encode(texts)


@contextmanager
def reader_process(options: dict[str, Any]) -> Iterator[_Ask]:
    """Another process with a MemoryGraph on the store, asked for searches (``ask(mode, text)``)."""
    worker = [sys.executable, "-m", "raeburnmemory.core.testing._search_worker"]
    with LineProcess.running([*worker, json.dumps(options)]) as reader:
        assert reader.hear() == "ready\n"

        def ask(mode: str, text: str) -> list[list[Any]]:
            reader.say(f"{mode} {text}")
            found: list[list[Any]] = json.loads(reader.hear())
            return found

        yield ask


def _vector(graph: MemoryGraph, prompt_id: str) -> np.ndarray[Any, Any]:
    found = graph.store.vectors_of([prompt_id])
    assert found.ids == [prompt_id]
    return np.array(found.vectors[0], copy=True)


class UpdateContract:
    """Only a new prompt text is embedded again; every index and process sees each update."""

    def test_an_update_embeds_again_only_a_new_prompt_text(self, options: dict[str, Any]) -> None:
        encoder = CountingEncoder()
        with MemoryGraph(**{**options, "embedding_model": encoder}) as graph:
            pid = graph.add_interaction("how do I rotate the api keys", metadata={"v": 1})
            graph.add_interaction("fixing a leaking kitchen tap", "replace the washer")
            before = _vector(graph, pid)
            calls = encoder.calls
            graph.update_interaction(pid, metadata={"v": 2})
            graph.update_interaction(pid, response="run the rotate script")
            graph.update_interaction(pid, response={"text": "ask the admin", "by": "ops"})
            graph.update_interaction(pid, metadata={"v": 2})  # nothing changes
            assert encoder.calls == calls, "no prompt text changed, nothing was encoded"
            assert np.array_equal(_vector(graph, pid), before)
            stored = graph.get_interaction(pid)
            assert (stored.response_text, dict(stored.metadata)) == ("ask the admin", {"v": 2})
            [hit] = graph.search("how do I rotate the api keys", 1)
            assert (hit.id, round(hit.score, 4), hit.response_text) == (pid, 1.0, "ask the admin")
            calls = encoder.calls
            graph.update_interaction(pid, prompt_text="planning a week in the alps")
            assert encoder.calls == calls + 1
            assert encoder.texts[-1] == "planning a week in the alps"
            assert not np.array_equal(_vector(graph, pid), before)
        with MemoryGraph(**options) as reopened:
            stored = reopened.get_interaction(pid)
            assert (stored.prompt_text, dict(stored.metadata)) == (
                "planning a week in the alps",
                {"v": 2},
            )
            assert reopened.get_similar_prompts("planning a week in the alps", 1) == [pid]

    def test_a_metadata_update_alone_is_stored(self, graph: MemoryGraph) -> None:
        pid = graph.add_interaction("where is the spare key", "under the mat", metadata={"a": 1})
        updated = graph.update_interaction(pid, metadata={"a": 2, "b": [1]})
        assert dict(updated.metadata) == {"a": 2, "b": [1]}
        assert dict(graph.get_interaction(pid).metadata) == {"a": 2, "b": [1]}
        assert [dict(i.metadata) for i in graph.interactions().items] == [{"a": 2, "b": [1]}]
        assert graph.count(where={"a": 2}) == 1
        assert graph.count() == 1

    @pytest.mark.slow
    def test_another_process_sees_updates_that_keep_the_vector(
        self, options: dict[str, Any]
    ) -> None:
        if options.get("vector_backend") == "qdrant" and "qdrant_url" not in options:
            pytest.skip("a local Qdrant folder serves one process; a server runs this")
        with MemoryGraph(**options) as graph, reader_process(options) as ask:
            pid = graph.add_interaction("bake sourdough bread at home", metadata={"v": 1})
            graph.add_interaction("fix a leaking kitchen tap", "replace the washer")
            assert ask("vector", "bake sourdough bread at home")[0][:4] == [
                pid,
                "bake sourdough bread at home",
                pytest.approx(1.0, abs=1e-4),
                None,
            ]
            graph.update_interaction(pid, metadata={"v": 2})
            assert ask("vector", "bake sourdough bread at home")[0][3:] == [None, {"v": 2}]
            graph.update_interaction(pid, response="feed the starter")
            [best, *_] = ask("vector", "bake sourdough bread at home")
            assert best[0] == pid
            assert round(best[2], 4) == 1.0
            assert best[3:] == ["feed the starter", {"v": 2}]
            if graph.store.supports_keyword_search:
                assert [hit[0] for hit in ask("keyword", "starter")] == [pid]
                graph.update_interaction(pid, response="use a hot oven")
                assert [hit[0] for hit in ask("keyword", "starter")] == []
                assert [hit[0] for hit in ask("keyword", "oven")] == [pid]
