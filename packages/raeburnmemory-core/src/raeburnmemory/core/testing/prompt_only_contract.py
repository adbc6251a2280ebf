"""The contract's cases about prompts recorded without a response.

:class:`PromptOnlyStoreContract` is mixed into
:class:`~raeburnmemory.core.testing.store_contract.StoreContract` and
:class:`PromptOnlyGraphContract` into
:class:`~raeburnmemory.core.testing.graph_contract.MemoryGraphContract`, so every backend runs
them.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing._store_rules import DIM
from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors

__all__ = ["PromptOnlyGraphContract", "PromptOnlyStoreContract", "prompt_only"]


def prompt_only(index: int, **changes: Any) -> Interaction:
    """The ``index``-th sample interaction without its response."""
    return interaction(index, response_id=None, response_text=None, **changes)


class PromptOnlyStoreContract:
    """A store keeps a prompt without a response, reads it back and finds it by keyword."""

    def test_a_prompt_without_a_response_round_trips(
        self, store: Store, opened: Callable[..., Store]
    ) -> None:
        notes = [prompt_only(0), prompt_only(1, prompt_attrs={"topic": "fact"})]
        assert store.add([*notes, interaction(2)], unit_vectors(3, DIM)) == ["p0", "p1", "p2"]
        assert store.get("p0") == notes[0]
        assert store.get_many(["p1", "p2"]) == [notes[1], interaction(2)]
        assert [item.prompt_id for item in store.iter_interactions()] == ["p0", "p1", "p2"]
        assert store.session("session-0") == [notes[0]]
        assert store.count() == 3
        assert store.stats()["interactions"] == 3
        assert sorted(store.load_vectors().ids) == ["p0", "p1", "p2"]
        store.compact()
        store.close()
        again = opened(create=False)
        assert again.get("p0") == notes[0]
        assert again.get("p1") == notes[1]
        assert again.get("p2") == interaction(2)

    def test_adding_the_same_prompt_only_again_is_no_conflict(self, store: Store) -> None:
        assert store.add([prompt_only(0)], unit_vectors(1, DIM)) == ["p0"]
        assert store.add([prompt_only(0), prompt_only(1)], unit_vectors(2, DIM)) == ["p1"]
        assert store.count() == 2

    def test_a_response_can_be_given_later_and_taken_back(self, store: Store) -> None:
        vectors = unit_vectors(2, DIM)
        store.add([prompt_only(0), prompt_only(1)], vectors)
        answered = interaction(0)
        assert store.replace([answered], vectors[:1]) == ["p0"]
        assert store.get("p0") == answered
        assert store.get("p1") == prompt_only(1)
        assert store.replace([prompt_only(0)], vectors[:1]) == ["p0"]
        assert store.get("p0") == prompt_only(0)
        assert store.count() == 2

    def test_keyword_search_finds_a_prompt_without_a_response(self, store: Store) -> None:
        if not store.supports_keyword_search:
            pytest.skip("this store does not search by keyword")
        from raeburnmemory.core.model import SearchFilter

        store.add([prompt_only(1), *interactions(3, start=2)], unit_vectors(4, DIM))
        found = [pid for pid, _ in store.keyword_search("sourdough bread", 3, SearchFilter())]
        assert found[:1] == ["p1"]

    def test_listing_and_deleting_prompts_without_responses(self, store: Store) -> None:
        from raeburnmemory.core.listing import ListQuery

        store.add([prompt_only(n) for n in range(4)], unit_vectors(4, DIM))
        page = store.page(ListQuery(), None, 10)
        assert [item.prompt_id for item in page] == ["p0", "p1", "p2", "p3"]
        assert all(item.response_id is None for item in page)
        assert store.delete(["p1"]) == ["p1"]
        assert store.count() == 3


class PromptOnlyGraphContract:
    """``add_interaction(prompt)`` records a memory of its own; every read and export takes it."""

    def test_a_prompt_alone_is_recorded_and_found(self, graph: MemoryGraph) -> None:
        note = graph.add_interaction("the wifi password is on the fridge", agent="helper")
        answered = graph.add_interaction("how long to boil an egg", "seven minutes")
        stored = graph.get_interaction(note)
        assert (stored.response_id, stored.response_text) == (None, None)
        assert stored.response_attrs == {}
        assert stored.agent_id == "helper"
        [hit] = graph.search("the wifi password is on the fridge", 1)
        assert (hit.id, hit.response_id, hit.response_text) == (note, None, None)
        assert graph.get_similar_prompts("wifi password fridge", 1) == [note]
        if graph.store.supports_keyword_search:
            assert [h.id for h in graph.search("wifi password", 2, mode="keyword")] == [note]
            assert graph.search("wifi password", 1, mode="hybrid")[0].id == note
        assert [item.prompt_id for item in graph.get_session("default")] == [note, answered]
        assert [item.prompt_id for item in graph.interactions().items] == [note, answered]
        assert graph.count() == 2
        assert graph.stats()["interactions"] == 2

    def test_batch_items_may_leave_the_response_out(self, graph: MemoryGraph) -> None:
        added = graph.batch_add(
            [{"prompt": "a fact to keep"}, {"prompt": "a question", "response": None}]
        )
        assert [graph.get_interaction(pid).response_id for pid in added] == [None, None]
        with pytest.raises(InvalidInteractionError, match="response"):
            graph.batch_add([{"prompt": "x", "response": 42}])
        assert graph.count() == 2

    def test_the_graph_has_no_response_node_for_it(self, graph: MemoryGraph) -> None:
        note = graph.add_interaction({"id": "n1", "text": "a note"}, agent="a1", session_id="s")
        graph.add_interaction({"id": "p2", "text": "a question"}, {"id": "r2", "text": "yes"})
        data = graph.node_link_data()
        keys = {node["id"] for node in data["nodes"]}
        assert "prompt:n1" in keys
        assert "response:r2" in keys
        assert not any(key.startswith("response:") and key != "response:r2" for key in keys)
        edges = data["edges"]
        from_note = {(e["relation"], e["target"]) for e in edges if e["source"] == "prompt:n1"}
        assert from_note == {("belongs_to", "session:s")}
        prompt = next(node for node in data["nodes"] if node["id"] == "prompt:n1")
        assert prompt["response_id"] is None
        if importlib.util.find_spec("networkx") is not None:  # an optional extra
            assert graph.to_networkx().has_node("prompt:" + note)

    def test_update_gives_a_prompt_its_response(self, graph: MemoryGraph) -> None:
        first = graph.add_interaction("what is the capital of peru")
        second = graph.add_interaction("who wrote dune")
        third = graph.add_interaction("when is the next eclipse")
        one = graph.update_interaction(first, response="Lima")
        assert one.response_text == "Lima"
        assert one.response_id is not None
        assert one.response_id != first
        two = graph.update_interaction(second, response={"id": "r-dune", "text": "Frank Herbert"})
        assert (two.response_id, two.response_text) == ("r-dune", "Frank Herbert")
        three = graph.update_interaction(third, response={"text": "in March", "sure": False})
        assert three.response_id is not None
        assert dict(three.response_attrs) == {"sure": False}
        for pid, want in ((first, one), (second, two), (third, three)):
            assert graph.get_interaction(pid) == want
        if graph.store.supports_keyword_search:
            assert [h.id for h in graph.search("Herbert", 3, mode="keyword")] == [second]

    def test_exports_and_imports_keep_it_without_a_response(
        self, graph: MemoryGraph, tmp_path: Path, options: dict[str, Any]
    ) -> None:
        note = graph.add_interaction({"id": "n1", "text": "remember the milk"}, metadata={"k": 1})
        graph.add_interaction({"id": "p2", "text": "a question"}, {"id": "r2", "text": "yes"})
        lines = tmp_path / "memory.jsonl"
        graph.export(lines, format="jsonl")
        rows = [json.loads(line) for line in lines.read_text().splitlines()[1:]]
        assert rows[0]["response"] is None
        node_link = tmp_path / "memory.json"
        graph.export(node_link)
        for source in (lines, node_link):
            target = tmp_path / f"copy-{source.suffix[1:]}.json"
            with MemoryGraph(target, embedding_model=None) as copy:
                copy.import_file(source)
                assert copy.get_interaction(note) == graph.get_interaction(note)
                assert copy.get_interaction("p2") == graph.get_interaction("p2")
        assert np.isfinite(graph.search("remember the milk", 1)[0].score)
