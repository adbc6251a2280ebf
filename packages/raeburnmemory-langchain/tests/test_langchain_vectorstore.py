"""RaeburnMemoryVectorStore beyond the standard suite: encoders, collections, MMR, retrievers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from raeburnmemory.core.errors import ConfigurationError, ConflictError, EmbeddingMismatchError
from raeburnmemory.langchain import EmbeddingsEncoder, RaeburnMemoryVectorStore
from raeburnmemory.memory_graph import MemoryGraph


def _embeddings(size: int = 8) -> DeterministicFakeEmbedding:
    return DeterministicFakeEmbedding(size=size)


def test_documents_are_prompt_only_memories_of_the_collection(tmp_path: Path) -> None:
    with RaeburnMemoryVectorStore.open(_embeddings(), tmp_path / "m.json") as store:
        (ident,) = store.add_texts(["Lisbon has seven hills"], [{"topic": "travel"}])
        item = store.memory.get_interaction(ident)
        assert (item.prompt_text, dict(item.metadata)) == (
            "Lisbon has seven hills",
            {"topic": "travel"},
        )
        assert item.session_id == "documents"
        assert not item.has_response
        assert (item.response_id, item.response_text) == (None, None)


def test_reopening_with_other_embeddings_is_refused(tmp_path: Path) -> None:
    with RaeburnMemoryVectorStore.open(_embeddings(8), tmp_path / "m.json") as store:
        store.add_texts(["first"])
    with pytest.raises(EmbeddingMismatchError):
        RaeburnMemoryVectorStore.open(_embeddings(12), tmp_path / "m.json")


def test_a_memory_with_another_encoder_is_refused(tmp_path: Path) -> None:
    with (
        MemoryGraph(tmp_path / "m.json", embedding_model=None) as memory,
        pytest.raises(ConfigurationError, match="EmbeddingsEncoder"),
    ):
        RaeburnMemoryVectorStore(memory, _embeddings())


def test_collections_share_a_memory_without_seeing_each_other(tmp_path: Path) -> None:
    embeddings = _embeddings()
    with MemoryGraph(tmp_path / "m.json", embedding_model=EmbeddingsEncoder(embeddings)) as memory:
        faq = RaeburnMemoryVectorStore(memory, embeddings, collection="faq")
        notes = RaeburnMemoryVectorStore(memory, embeddings, collection="notes")
        faq.add_texts(["How do I reset my password?"], ids=["q1"])
        notes.add_texts(["Call the bank on Monday"], ids=["n1"])
        assert [d.id for d in faq.similarity_search("Call the bank on Monday", k=5)] == ["q1"]
        assert notes.get_by_ids(["q1", "n1"])[0].id == "n1"
        assert notes.delete(["q1"]) is False
        assert faq.get_by_ids(["q1"])[0].page_content == "How do I reset my password?"
        with pytest.raises(ConflictError, match="q1"):
            notes.add_texts(["Not a question"], ids=["q1"])
        assert faq.get_by_ids(["q1"])[0].page_content == "How do I reset my password?"


def test_scores_and_relevance(tmp_path: Path) -> None:
    with RaeburnMemoryVectorStore.open(_embeddings(), tmp_path / "m.json") as store:
        store.add_texts(["alpha", "beta"], ids=["a", "b"])
        (doc, score), _ = store.similarity_search_with_score("alpha", k=2)
        assert doc.id == "a"
        assert score == pytest.approx(1.0, abs=1e-5)
        ((_, relevance), _) = store.similarity_search_with_relevance_scores("alpha", k=2)
        assert relevance == pytest.approx(1.0, abs=1e-5)


def test_max_marginal_relevance_prefers_a_diverse_second_document(tmp_path: Path) -> None:
    with RaeburnMemoryVectorStore.open(_embeddings(), tmp_path / "m.json") as store:
        store.add_texts(["alpha", "alpha", "omega"], ids=["a1", "a2", "o"])
        by_similarity = store.similarity_search("alpha", k=2)
        assert {d.id for d in by_similarity} == {"a1", "a2"}
        diverse = store.max_marginal_relevance_search("alpha", k=2, fetch_k=3, lambda_mult=0.5)
        assert diverse[0].page_content == "alpha"
        assert diverse[1].id == "o"
        assert (
            asyncio.run(store.amax_marginal_relevance_search("alpha", k=2, fetch_k=3))[1].id == "o"
        )


def test_delete_needs_ids(tmp_path: Path) -> None:
    with (
        RaeburnMemoryVectorStore.open(_embeddings(), tmp_path / "m.json") as store,
        pytest.raises(ConfigurationError, match="ids"),
    ):
        store.delete()


def test_mismatched_metadatas_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    with RaeburnMemoryVectorStore.open(_embeddings(), tmp_path / "m.json") as store:
        with pytest.raises(ConfigurationError, match="2 texts, 1 metadatas"):
            store.add_texts(["a", "b"], [{"n": 1}])
        assert store.memory.count() == 0


def test_from_texts_and_a_retriever(tmp_path: Path) -> None:
    store = RaeburnMemoryVectorStore.from_texts(
        ["The castle is in Alfama", "Trams climb the hills"],
        _embeddings(),
        db_path=tmp_path / "m.db",
        storage_backend="sqlite",
    )
    with store:
        retriever = store.as_retriever(search_kwargs={"k": 1})
        assert [d.page_content for d in retriever.invoke("Trams climb the hills")] == [
            "Trams climb the hills"
        ]
        found = asyncio.run(retriever.ainvoke("The castle is in Alfama"))
        assert [d.page_content for d in found] == ["The castle is in Alfama"]


def test_the_query_goes_through_embed_query(tmp_path: Path) -> None:
    class QueryAware(DeterministicFakeEmbedding):
        def embed_query(self, text: str) -> list[float]:
            return super().embed_query("query: " + text)

    embeddings = QueryAware(size=8)
    with RaeburnMemoryVectorStore.open(embeddings, tmp_path / "m.json") as store:
        store.add_texts(["query: tides", "tides"], ids=["prefixed", "plain"])
        assert store.similarity_search("tides", k=1)[0].id == "prefixed"


def test_adding_the_same_text_with_other_metadata_updates_it(tmp_path: Path) -> None:
    with RaeburnMemoryVectorStore.open(_embeddings(), tmp_path / "m.json") as store:
        store.add_texts(["same words", "other"], [{"v": 1}, {"v": 1}], ids=["d", "e"])
        store.add_texts(["same words", "new words"], [{"v": 2}, {"v": 2}], ids=["d", "e"])
        assert [(d.page_content, d.metadata) for d in store.get_by_ids(["d", "e"])] == [
            ("same words", {"v": 2}),
            ("new words", {"v": 2}),
        ]
        assert store.similarity_search("new words", k=1)[0].id == "e"
