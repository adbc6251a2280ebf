"""Metadata filters in RaeburnMemoryVectorStore's searches, on the JSON and SQLite stores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from raeburnmemory.core.errors import InvalidFilterError
from raeburnmemory.langchain import RaeburnMemoryVectorStore

CITIES = [
    ("Tram 28 climbs to the castle", {"city": "Lisbon", "year": 2019, "tags": ["tram"]}),
    ("Ferries cross to Cacilhas", {"city": "Lisbon", "year": 2023, "tags": ["boat"]}),
    ("Cellars line the Douro", {"city": "Porto", "year": 2021, "tags": ["wine", "boat"]}),
]


@pytest.fixture(params=["json", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RaeburnMemoryVectorStore]:
    path = tmp_path / ("m.json" if request.param == "json" else "m.db")
    with RaeburnMemoryVectorStore.open(
        DeterministicFakeEmbedding(size=8), path, storage_backend=request.param
    ) as opened:
        opened.add_texts([text for text, _ in CITIES], [meta for _, meta in CITIES])
        yield opened


def _texts(documents: list) -> list[str]:
    return sorted(document.page_content for document in documents)


def test_filters_keep_only_passing_documents(store: RaeburnMemoryVectorStore) -> None:
    query = "Cellars line the Douro"
    assert _texts(store.similarity_search(query, k=3, filter={"city": "Lisbon"})) == [
        "Ferries cross to Cacilhas",
        "Tram 28 climbs to the castle",
    ]
    found = store.similarity_search(query, k=3, filter={"year": {"$gte": 2021}, "tags": "boat"})
    assert _texts(found) == ["Cellars line the Douro", "Ferries cross to Cacilhas"]
    assert store.similarity_search(query, k=3, filter={"city": "Faro"}) == []


def test_k_results_come_back_when_that_many_pass(store: RaeburnMemoryVectorStore) -> None:
    found = store.similarity_search_with_score(
        "Cellars line the Douro", k=1, filter={"city": "Lisbon"}
    )
    assert len(found) == 1
    assert found[0][0].metadata["city"] == "Lisbon"


def test_filters_reach_mmr_retrievers_and_async(store: RaeburnMemoryVectorStore) -> None:
    flt = {"city": "Porto"}
    assert _texts(store.max_marginal_relevance_search("boat", k=2, filter=flt)) == [
        "Cellars line the Douro"
    ]
    retriever = store.as_retriever(search_kwargs={"k": 3, "filter": {"year": 2019}})
    assert _texts(retriever.invoke("castle")) == ["Tram 28 climbs to the castle"]
    found = asyncio.run(store.asimilarity_search("castle", k=3, filter={"year": {"$lt": 2020}}))
    assert _texts(found) == ["Tram 28 climbs to the castle"]


def test_a_malformed_filter_names_its_bad_part(store: RaeburnMemoryVectorStore) -> None:
    with pytest.raises(InvalidFilterError, match=r"\$gt"):
        store.similarity_search("castle", filter={"year": {"$gt": "soon"}})
