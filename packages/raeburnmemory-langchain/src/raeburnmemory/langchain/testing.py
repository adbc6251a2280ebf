"""A conformance suite for LangGraph stores, in the style of ``langchain-tests``.

LangGraph ships no standard tests for ``BaseStore`` implementations. Subclass
:class:`BaseStoreConformanceTests` and give it a ``store`` fixture that yields an empty store
whose semantic search embeds each value's ``"text"`` field with :meth:`get_embeddings`; every
test then runs against it. The suite passes on LangGraph's own ``InMemoryStore``, the
reference::

    class TestInMemoryStore(BaseStoreConformanceTests):
        @pytest.fixture
        def store(self) -> BaseStore:
            return reference_store(self.get_embeddings())

Timestamps are checked only for what every store keeps: ``created_at <= updated_at``, and an
``updated_at`` that does not go back when an item is put again (the in-memory store resets
``created_at`` on every put; stores on disk keep it).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langgraph.store.base import BaseStore, IndexConfig, InvalidNamespaceError, Item
from langgraph.store.memory import InMemoryStore

__all__ = ["EMBEDDING_SIZE", "BaseStoreConformanceTests", "reference_store"]

#: The dimension of :meth:`BaseStoreConformanceTests.get_embeddings`' vectors.
EMBEDDING_SIZE = 6


def reference_store(embeddings: Embeddings) -> InMemoryStore:
    """LangGraph's own in-memory store, the reference, embedding each value's ``text`` field
    with ``embeddings``."""
    index: IndexConfig = {"dims": EMBEDDING_SIZE, "embed": embeddings, "fields": ["text"]}
    return InMemoryStore(index=index)


def _keys(items: list[Any]) -> list[str]:
    return [item.key for item in items]


class BaseStoreConformanceTests:
    """What a LangGraph ``BaseStore`` must do; subclass it and provide :meth:`store`."""

    @abstractmethod
    @pytest.fixture
    def store(self) -> BaseStore:
        """An empty store that embeds each value's ``"text"`` field with
        :meth:`get_embeddings` for searches with a ``query``."""

    @staticmethod
    def get_embeddings() -> Embeddings:
        """The embeddings the store's semantic search must use: deterministic, offline."""
        return DeterministicFakeEmbedding(size=EMBEDDING_SIZE)

    @staticmethod
    def fill(store: BaseStore) -> None:
        """Three users' memories and a document, in four namespaces."""
        store.put(("users", "ana", "facts"), "tea", {"text": "likes green tea", "n": 3})
        store.put(("users", "ana", "facts"), "city", {"text": "lives in Lisbon", "n": 7})
        store.put(("users", "bo", "facts"), "tea", {"text": "drinks black tea", "n": 5})
        store.put(("users", "bo", "prefs"), "style", {"text": "short answers", "n": 1})
        store.put(("docs",), "guide", {"text": "how to plan a trip", "n": 10})

    # -- get, put, delete ------------------------------------------------------------------------

    def test_an_empty_store(self, store: BaseStore) -> None:
        assert store.search(()) == []
        assert store.search(("users",), query="tea") == []
        assert store.list_namespaces() == []
        assert store.get(("users",), "missing") is None

    def test_put_then_get(self, store: BaseStore) -> None:
        value = {"text": "likes green tea", "nested": {"a": [1, 2.5, None, True]}, "é": "ü"}
        store.put(("users", "ana"), "tea", value)
        item = store.get(("users", "ana"), "tea")
        assert isinstance(item, Item)
        assert (item.namespace, item.key, item.value) == (("users", "ana"), "tea", value)
        assert item.created_at.tzinfo is not None
        assert item.created_at <= item.updated_at

    def test_put_again_replaces_the_value(self, store: BaseStore) -> None:
        store.put(("users",), "k", {"text": "first", "old": 1})
        before = store.get(("users",), "k")
        store.put(("users",), "k", {"text": "second"})
        after = store.get(("users",), "k")
        assert before is not None
        assert after is not None
        assert after.value == {"text": "second"}
        assert after.updated_at >= before.updated_at
        assert _keys(store.search(("users",))) == ["k"]

    def test_delete(self, store: BaseStore) -> None:
        store.put(("users",), "k", {"text": "gone soon"})
        store.delete(("users",), "k")
        assert store.get(("users",), "k") is None
        store.delete(("users",), "k")  # deleting what is not there is no error
        assert store.search(()) == []

    def test_namespaces_keep_keys_apart(self, store: BaseStore) -> None:
        store.put(("a",), "k", {"text": "in a"})
        store.put(("a", "b"), "k", {"text": "in a/b"})
        store.put(("b",), "k", {"text": "in b"})
        assert store.get(("a",), "k").value == {"text": "in a"}  # type: ignore[union-attr]
        assert store.get(("a", "b"), "k").value == {"text": "in a/b"}  # type: ignore[union-attr]
        store.delete(("a",), "k")
        assert store.get(("a", "b"), "k") is not None
        assert store.get(("b",), "k") is not None

    def test_invalid_namespaces_are_refused(self, store: BaseStore) -> None:
        for namespace in [(), ("a.b",), ("",), ("langgraph",)]:
            with pytest.raises(InvalidNamespaceError):
                store.put(namespace, "k", {"text": "x"})

    # -- search ----------------------------------------------------------------------------------

    def test_search_by_namespace_prefix(self, store: BaseStore) -> None:
        self.fill(store)
        assert len(store.search((), limit=100)) == 5
        assert sorted(_keys(store.search(("users",)))) == ["city", "style", "tea", "tea"]
        assert sorted(_keys(store.search(("users", "ana")))) == ["city", "tea"]
        assert _keys(store.search(("users", "bo", "prefs"))) == ["style"]
        assert store.search(("use",)) == []  # labels match whole
        assert store.search(("users", "ana", "facts", "deeper")) == []

    def test_search_filters_by_equality(self, store: BaseStore) -> None:
        self.fill(store)
        store.put(("x",), "list", {"text": "t", "tags": ["a", "b"], "obj": {"k": 1}, "flag": True})
        assert _keys(store.search((), filter={"n": 7})) == ["city"]
        assert _keys(store.search((), filter={"text": "short answers"})) == ["style"]
        assert _keys(store.search((), filter={"n": {"$eq": 10}})) == ["guide"]
        assert _keys(store.search((), filter={"tags": ["a", "b"]})) == ["list"]
        assert store.search((), filter={"tags": "a"}) == []  # a list equals only the same list
        assert _keys(store.search((), filter={"obj": {"k": 1}})) == ["list"]
        assert _keys(store.search((), filter={"flag": True})) == ["list"]
        assert _keys(store.search(("users",), filter={"n": 5, "text": "drinks black tea"})) == [
            "tea"
        ]
        assert store.search(("docs",), filter={"n": 7}) == []

    def test_search_filters_with_comparisons(self, store: BaseStore) -> None:
        self.fill(store)

        def keys(flt: dict[str, Any]) -> list[str]:
            return sorted(_keys(store.search((), filter=flt, limit=100)))

        assert keys({"n": {"$gt": 5}}) == ["city", "guide"]
        assert keys({"n": {"$gte": 5}}) == ["city", "guide", "tea"]
        assert keys({"n": {"$lt": 3}}) == ["style"]
        assert keys({"n": {"$lte": 3}}) == ["style", "tea"]
        assert keys({"n": {"$ne": 3}}) == ["city", "guide", "style", "tea"]
        assert keys({"n": {"$gt": 1, "$lt": 7}}) == ["tea", "tea"]

    def test_search_with_a_query_ranks_by_similarity(self, store: BaseStore) -> None:
        self.fill(store)
        found = store.search(("users",), query="drinks black tea")
        assert found[0].key == "tea"
        assert found[0].namespace == ("users", "bo", "facts")
        assert found[0].score == pytest.approx(1.0, abs=1e-5)
        scores = [item.score for item in found]
        assert all(score is not None for score in scores)
        assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
        assert len(found) == 4

    def test_search_with_a_query_and_a_filter(self, store: BaseStore) -> None:
        self.fill(store)
        found = store.search((), query="likes green tea", filter={"n": {"$gte": 5}})
        assert sorted(_keys(found)) == ["city", "guide", "tea"]
        assert store.search(("users", "ana"), query="likes green tea", filter={"n": 3})[0].key == (
            "tea"
        )

    def test_search_pages_with_limit_and_offset(self, store: BaseStore) -> None:
        self.fill(store)
        for query in (None, "tea"):
            whole = store.search((), query=query, limit=10)
            pages = [store.search((), query=query, limit=2, offset=start) for start in (0, 2, 4)]
            assert [len(page) for page in pages] == [2, 2, 1]
            flat = [(item.namespace, item.key) for page in pages for item in page]
            assert sorted(flat) == sorted((item.namespace, item.key) for item in whole)
            if query is not None:
                assert flat == [(item.namespace, item.key) for item in whole]
            assert store.search((), query=query, limit=2, offset=5) == []

    # -- namespaces ------------------------------------------------------------------------------

    def test_list_namespaces(self, store: BaseStore) -> None:
        self.fill(store)
        every = [
            ("docs",),
            ("users", "ana", "facts"),
            ("users", "bo", "facts"),
            ("users", "bo", "prefs"),
        ]
        assert store.list_namespaces() == every
        assert store.list_namespaces(prefix=("users", "bo")) == every[2:]
        assert store.list_namespaces(suffix=("facts",)) == every[1:3]
        assert store.list_namespaces(prefix=("users", "*", "facts")) == every[1:3]
        assert store.list_namespaces(max_depth=1) == [("docs",), ("users",)]
        assert store.list_namespaces(prefix=("users",), max_depth=2) == [
            ("users", "ana"),
            ("users", "bo"),
        ]
        assert store.list_namespaces(limit=2, offset=1) == every[1:3]

    # -- async -----------------------------------------------------------------------------------

    def test_async_twins(self, store: BaseStore) -> None:
        async def scenario() -> None:
            await store.aput(("users", "ana"), "tea", {"text": "likes green tea"})
            await store.aput(("users", "bo"), "tea", {"text": "drinks black tea"})
            item = await store.aget(("users", "ana"), "tea")
            assert item is not None
            assert item.value == {"text": "likes green tea"}
            found = await store.asearch(("users",), query="drinks black tea", limit=1)
            assert _keys(found) == ["tea"]
            assert found[0].namespace == ("users", "bo")
            assert await store.alist_namespaces(max_depth=1) == [("users",)]
            await store.adelete(("users", "ana"), "tea")
            assert await store.aget(("users", "ana"), "tea") is None

        asyncio.run(scenario())
