"""RaeburnMemoryStore and LangGraph's InMemoryStore, given the same random operations, answer
every read the same way."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore

from raeburnmemory.langchain import EmbeddingsEncoder, RaeburnMemoryStore
from raeburnmemory.langchain.testing import BaseStoreConformanceTests, reference_store
from raeburnmemory.memory_graph import MemoryGraph

NAMESPACES = [("u", "ana"), ("u", "bo"), ("u", "bo", "x"), ("docs",)]
WORDS = ["tea", "coffee", "Lisbon", "Porto", "tram", "river", "castle"]


def _value(rng: random.Random) -> dict[str, Any]:
    return {
        "text": " ".join(rng.sample(WORDS, 3)),
        "n": rng.randint(0, 9),
        "kind": rng.choice(["fact", "pref"]),
    }


def _filter(rng: random.Random) -> dict[str, Any] | None:
    return rng.choice(
        [
            None,
            {"kind": rng.choice(["fact", "pref"])},
            {"n": {rng.choice(["$gt", "$gte", "$lt", "$lte", "$ne", "$eq"]): rng.randint(0, 9)}},
            {"kind": "fact", "n": {"$lte": rng.randint(0, 9)}},
        ]
    )


def _reads(store: BaseStore, rng: random.Random) -> list[Any]:
    """What a random set of reads returns, in a form both stores must give alike."""
    answers: list[Any] = [store.list_namespaces(), store.list_namespaces(max_depth=1)]
    for _ in range(6):
        prefix = rng.choice([(), ("u",), *NAMESPACES])
        flt = _filter(rng)
        listed = store.search(prefix, filter=flt, limit=100)
        answers.append(sorted((i.namespace, i.key, repr(i.value)) for i in listed))
        query = " ".join(rng.sample(WORDS, 3))
        ranked = store.search(prefix, query=query, filter=flt, limit=100)
        scores = [i.score or 0.0 for i in ranked]
        assert scores == sorted(scores, reverse=True)
        # Items of equal score (the same text) may come in either order.
        answers.append(
            sorted((-round(s, 4), i.namespace, i.key) for s, i in zip(scores, ranked, strict=True))
        )
        namespace = rng.choice(NAMESPACES)
        got = store.get(namespace, f"k{rng.randint(0, 5)}")
        answers.append(None if got is None else got.value)
    return answers


@pytest.mark.parametrize("backend", ["json", "sqlite"])
@pytest.mark.parametrize("seed", range(3))
def test_random_operations_read_back_alike(tmp_path: Path, seed: int, backend: str) -> None:
    embeddings = BaseStoreConformanceTests.get_embeddings()
    reference = reference_store(embeddings)
    encoder = EmbeddingsEncoder(embeddings)
    path = tmp_path / f"store.{backend}"
    with MemoryGraph(path, embedding_model=encoder, storage_backend=backend) as memory:
        ours = RaeburnMemoryStore(memory, fields=["text"])
        rng = random.Random(seed)
        for _ in range(40):
            namespace, key = rng.choice(NAMESPACES), f"k{rng.randint(0, 5)}"
            if rng.random() < 0.2:
                for store in (reference, ours):
                    store.delete(namespace, key)
            else:
                value = _value(rng)
                for store in (reference, ours):
                    store.put(namespace, key, value)
        reads = random.Random(seed + 100)
        state = reads.getstate()
        expected = _reads(reference, reads)
        reads.setstate(state)
        assert _reads(ours, reads) == expected
