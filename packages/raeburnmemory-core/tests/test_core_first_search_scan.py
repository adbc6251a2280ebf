"""A graph's first unfiltered vector search scans the stored vectors instead of building an
in-memory index, and answers exactly what the index answers afterwards."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from raeburnmemory.memory_graph import MemoryGraph

WORDS = ["reset", "password", "bake", "bread", "tune", "database", "hiking", "alps", "haiku"]
QUERIES = ["bake bread in the alps", "reset the password", "vector search database"]


def _fill(path: Path, first: int, count: int, **options: object) -> None:
    rng = random.Random(first)
    with MemoryGraph(path, embedding_model=None, **options) as memory:  # type: ignore[arg-type]
        memory.batch_add(
            {
                "prompt": {"id": f"p{i}", "text": " ".join(rng.choices(WORDS, k=5))},
                "response": {"id": f"r{i}", "text": f"answer {i}"},
                "agent": f"a{i % 3}",
                "session_id": f"s{i % 4}",
            }
            for i in range(first, first + count)
        )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A JSON store whose vectors are in its vectors file and, after it, in its journal."""
    path = tmp_path / "graph.json"
    _fill(path, 0, 300)
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.export()  # folds the journal: these vectors are rows of the vectors file
    _fill(path, 300, 40)  # these stay in the journal
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.delete_interaction("p7")  # a row of the file that is no longer live
    return path


@pytest.mark.parametrize("vectors", ["numpy", "faiss"])
def test_the_first_search_builds_no_index_and_matches_the_index(store: Path, vectors: str) -> None:
    if vectors == "faiss":
        pytest.importorskip("faiss")
    for query in QUERIES:
        with MemoryGraph(store, embedding_model=None, vector_backend=vectors) as memory:
            first = memory.search(query, 10)
            assert memory._keeper.index is None  # answered by the scan
            second = memory.search(query, 10)  # builds the index
            assert memory._keeper.index is not None
        with MemoryGraph(store, embedding_model=None, vector_backend=vectors) as memory:
            every = memory.search(query, 340)
        assert len(every) == 339
        assert any(int(hit.id[1:]) >= 300 for hit in every)
        # The same hits in the same order, scores bit for bit (near-ties are many here).
        assert [(hit.id, hit.score) for hit in first] == [(hit.id, hit.score) for hit in second]
        assert "p7" not in {hit.id for hit in every}


def test_a_filtered_first_search_uses_the_index(store: Path) -> None:
    with MemoryGraph(store, embedding_model=None, vector_backend="numpy") as memory:
        hits = memory.search("bake bread", 5, session_id="s1")
        assert memory._keeper.index is not None
    assert hits
    assert {hit.session_id for hit in hits} == {"s1"}


def test_an_approximate_index_is_never_replaced_by_the_scan(store: Path) -> None:
    pytest.importorskip("faiss")
    with MemoryGraph(store, embedding_model=None, vector_backend="faiss", index="hnsw") as memory:
        memory.search("bake bread", 5)
        assert memory._keeper.index is not None


def test_a_first_search_widened_by_ties_builds_no_index(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    with MemoryGraph(path, embedding_model=None) as memory:  # type: ignore[arg-type]
        memory.batch_add(
            {
                "prompt": {"id": f"p{i}", "text": "bake bread" if i % 3 else "reset the password"},
                "response": {"id": f"r{i}", "text": f"answer {i}"},
            }
            for i in range(60)
        )
        memory.export()
    with MemoryGraph(path, embedding_model=None) as memory:  # type: ignore[arg-type]
        first = memory.search("bake bread", 3)  # 40 equal scores: asked again, deeper
        assert memory._keeper.index is None  # the scan answered every depth
        second = memory.search("bake bread", 3)
        assert memory._keeper.index is not None
    assert [hit.id for hit in first] == ["p1", "p10", "p11"]  # equal scores: by prompt id
    assert [(hit.id, hit.score) for hit in first] == [(hit.id, hit.score) for hit in second]
