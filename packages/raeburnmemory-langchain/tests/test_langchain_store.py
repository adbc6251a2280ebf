"""RaeburnMemoryStore beyond the conformance suite: persistence, layout, sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.langchain import EmbeddingsEncoder, RaeburnMemoryStore
from raeburnmemory.memory_graph import MemoryGraph


def _memory(path: Path) -> MemoryGraph:
    return MemoryGraph(path, embedding_model=EmbeddingsEncoder(DeterministicFakeEmbedding(size=8)))


def test_items_outlive_the_process_and_keep_their_creation_time(tmp_path: Path) -> None:
    with _memory(tmp_path / "m.json") as memory:
        RaeburnMemoryStore(memory).put(("users", "ana"), "tea", {"text": "likes tea"})
        first = RaeburnMemoryStore(memory).get(("users", "ana"), "tea")
    with _memory(tmp_path / "m.json") as memory:
        store = RaeburnMemoryStore(memory)
        store.put(("users", "ana"), "tea", {"text": "likes green tea"})
        again = store.get(("users", "ana"), "tea")
    assert first is not None
    assert again is not None
    assert again.value == {"text": "likes green tea"}
    assert again.created_at == first.created_at
    assert again.updated_at > first.updated_at


def test_the_documented_layout(tmp_path: Path) -> None:
    with _memory(tmp_path / "m.json") as memory:
        RaeburnMemoryStore(memory, fields=["text"]).put(
            ("users", "ana"), "tea", {"text": "likes tea", "n": 2}
        )
        (item,) = memory.get_session("langgraph")
        assert item.prompt_id == 'langgraph:["langgraph", ["users", "ana"], "tea"]'
        assert item.prompt_text == "likes tea"
        assert dict(item.metadata) == {
            "v.text": "likes tea",
            "v.n": 2,
            "ns.0": "users",
            "ns.1": "ana",
            "ns.depth": 2,
        }
        assert memory.count(where={"v.n": {"$gt": 1}, "ns.0": "users"}) == 1


def test_stores_in_other_sessions_do_not_meet(tmp_path: Path) -> None:
    with _memory(tmp_path / "m.json") as memory:
        memory.add_interaction("unrelated", "memory", session_id="chat")
        one = RaeburnMemoryStore(memory, session_id="one")
        two = RaeburnMemoryStore(memory, session_id="two")
        one.put(("ns",), "k", {"text": "in one"})
        assert two.get(("ns",), "k") is None
        assert two.search(()) == []
        assert two.list_namespaces() == []
        assert [i.key for i in one.search((), query="unrelated")] == ["k"]
        two.delete(("ns",), "k")
        assert one.get(("ns",), "k") is not None
        two.put(("ns",), "k", {"text": "in two"})
        assert one.get(("ns",), "k").value == {"text": "in one"}  # type: ignore[union-attr]
        assert two.get(("ns",), "k").value == {"text": "in two"}  # type: ignore[union-attr]


def test_a_query_search_goes_deeper_when_the_filter_leaves_too_few(tmp_path: Path) -> None:
    with _memory(tmp_path / "m.json") as memory:
        store = RaeburnMemoryStore(memory, fields=["text"])
        for n in range(30):
            store.put(("docs",), f"k{n}", {"text": f"note {n}", "n": n})
        found = store.search(("docs",), query="note 3", filter={"n": {"$gte": 25}}, limit=5)
        assert sorted(item.key for item in found) == [f"k{n}" for n in range(25, 30)]


def test_fields_must_be_a_list_of_paths(tmp_path: Path) -> None:
    with _memory(tmp_path / "m.json") as memory, pytest.raises(ConfigurationError, match="fields"):
        RaeburnMemoryStore(memory, fields="text")


def test_putting_the_same_text_with_other_values_updates_them(tmp_path: Path) -> None:
    with _memory(tmp_path / "m.json") as memory:
        store = RaeburnMemoryStore(memory, fields=["text"])
        store.put(("a",), "k", {"text": "same words", "n": 1})
        first = store.get(("a",), "k")
        store.put(("a",), "k", {"text": "same words", "n": 2})
        again = store.get(("a",), "k")
        assert first is not None
        assert again is not None
        assert again.value == {"text": "same words", "n": 2}
        assert again.updated_at > first.updated_at
        assert again.created_at == first.created_at
        assert [item.key for item in store.search(("a",), filter={"n": 2})] == ["k"]
