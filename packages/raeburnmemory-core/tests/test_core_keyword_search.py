"""Keyword and hybrid search on the JSON store (BM25 from bm25s), and the fusion of rankings."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from raeburnmemory.core.fusion import HYBRID_VECTOR_WEIGHT, fuse
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.keywords import keyword_terms
from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.testing import interaction, interactions
from raeburnmemory.memory_graph import MemoryGraph


@pytest.fixture
def store(tmp_path: Path) -> JsonStore:
    opened = JsonStore.open(str(tmp_path / "graph.json"))
    assert isinstance(opened, JsonStore)
    return opened


def _ids(store: JsonStore, text: str, k: int = 100, flt: SearchFilter | None = None) -> list[str]:
    return [pid for pid, _ in store.keyword_search(text, k, flt or SearchFilter())]


def test_words_of_prompts_and_responses_are_found_rarer_first(store: JsonStore) -> None:
    store.add(
        [
            interaction(
                1, prompt_text="How do I rotate TLS certificates?", response_text="certbot"
            ),
            interaction(2, prompt_text="Best sourdough starter?", response_text="Rye flour."),
            interaction(3, prompt_text="Renew a certificate", response_text="Rotate keys yearly."),
            interaction(4, prompt_text="Rotate the tyres", response_text="Every 10,000 km."),
        ],
        None,
    )
    assert set(_ids(store, "rotate")) == {"p1", "p3", "p4"}
    assert _ids(store, "RYE flour") == ["p2"]
    assert _ids(store, "rotate TLS")[0] == "p1"  # the rare word decides
    assert _ids(store, "Crème brûlée") == []
    hits = store.keyword_search("rotate certbot", 2, SearchFilter())
    assert hits[0][0] == "p1"
    assert hits[0][1] > hits[1][1] > 0


def test_stop_words_match_nothing(store: JsonStore) -> None:
    store.add([interaction(1, prompt_text="What is a good name for my cat?")], None)
    assert keyword_terms("what is a good name for my cat") == ["good", "name", "cat"]
    assert _ids(store, "what is it for, and is it my") == []
    assert _ids(store, "") == []
    assert _ids(store, "My CAT") == ["p1"]


def test_filters_apply(store: JsonStore) -> None:
    store.add(interactions(40, sessions=4, agents=3), None)
    hits = _ids(store, "sourdough", flt=SearchFilter(session_id="session-1"))
    assert hits
    assert all(store.get(pid).session_id == "session-1" for pid in hits)  # type: ignore[union-attr]
    start = interaction(0).timestamp.timestamp()
    window = _ids(store, "question", flt=SearchFilter(since=start + 5, until=start + 9))
    assert sorted(int(pid[1:]) for pid in window) == [5, 6, 7, 8, 9]


def test_the_index_follows_writes_and_deletes_of_every_writer(tmp_path: Path) -> None:
    path = str(tmp_path / "graph.json")
    with JsonStore.open(path) as mine, JsonStore.open(path) as theirs:
        mine.add(interactions(10), None)
        assert set(_ids(mine, "sourdough")) == {"p1", "p9"}
        theirs.add([interaction(17)], None)
        theirs.delete(["p9"])
        assert set(_ids(mine, "sourdough")) == {"p1", "p17"}
        built = mine._keywords
        mine.delete(["p1"])
        assert _ids(mine, "sourdough") == ["p17"]
        assert mine._keywords is built  # a delete is filtered out, not a reason to rebuild
        mine.add([interaction(1, prompt_text="sourdough revisited")], None)  # same id, anew
        assert set(_ids(mine, "sourdough")) == {"p1", "p17"}
        assert set(_ids(theirs, "revisited")) == {"p1"}
        theirs.compact()
        assert set(_ids(mine, "sourdough")) == {"p1", "p17"}


WRITER = """
import sys
from raeburnmemory.memory_graph import MemoryGraph
with MemoryGraph(db_path=sys.argv[1], embedding_model=None) as graph:
    graph.add_interaction(
        {"id": "late", "text": "zanzibar spice route"}, {"id": "r-late", "text": "cloves"},
        {"id": "a"}, "s",
    )
    graph.delete_interaction("p0")
"""


def test_a_graph_sees_keyword_changes_made_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    with MemoryGraph(db_path=path, embedding_model=None) as graph:
        graph.batch_add(interactions(5))
        assert [hit.id for hit in graph.search("question 0", 5, mode="keyword")][:1] == ["p0"]
        subprocess.run([sys.executable, "-c", WRITER, str(path)], check=True, timeout=120)
        assert [hit.id for hit in graph.search("zanzibar", 5, mode="keyword")] == ["late"]
        assert "p0" not in [hit.id for hit in graph.search("question 0", 5, mode="keyword")]
        assert graph.search("cloves zanzibar", 1, mode="hybrid")[0].id == "late"


class _Chosen:
    """An encoder that gives each known text a chosen vector (others: a fixed far vector)."""

    name = "chosen-vectors"
    dim = 3

    def __init__(self, vectors: dict[str, Sequence[float]]) -> None:
        self._vectors = vectors

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self._vectors.get(text, (0.0, 0.0, 1.0)) for text in texts]
        return np.asarray(rows, dtype=np.float32)


def _add(graph: MemoryGraph, pid: str, text: str) -> None:
    graph.add_interaction(
        {"id": pid, "text": text}, {"id": f"r{pid}", "text": "ok"}, {"id": "a"}, "s"
    )


@pytest.mark.parametrize("storage", ["json", "sqlite"])
def test_stop_word_matches_do_not_beat_the_vector_search(tmp_path: Path, storage: str) -> None:
    if storage == "sqlite":
        pytest.importorskip("raeburnmemory.sqlite")
    query = "Refund wanted for my faulty appliance"
    encoder = _Chosen(
        {
            query: (1.0, 0.05, 0.0),
            "How can I get money back on a broken kettle?": (1.0, 0.0, 0.0),
            "Looking for a name for my dog": (0.9, 0.44, 0.0),
            "A gift for my mother": (0.85, 0.53, 0.0),
        }
    )
    suffix = "db" if storage == "sqlite" else "json"
    with MemoryGraph(
        db_path=tmp_path / f"g.{suffix}", embedding_model=encoder, storage_backend=storage
    ) as graph:
        _add(graph, "kettle", "How can I get money back on a broken kettle?")
        _add(graph, "dog", "Looking for a name for my dog")
        _add(graph, "gift", "A gift for my mother")
        assert graph.search(query, 1, mode="vector")[0].id == "kettle"
        assert graph.search(query, 3, mode="keyword") == []  # only stop words are shared
        assert graph.search(query, 3, mode="hybrid")[0].id == "kettle"


def test_fusion_keeps_a_clear_vector_winner_and_lifts_a_rare_exact_term() -> None:
    by_vector = [("right", 0.62), ("exact", 0.58), ("near", 0.55), ("low", 0.2), ("far", 0.10)]
    # "far" shares a word with the query, but the vector search puts it far below "right".
    fused = fuse(by_vector, [("far", 1.3)], HYBRID_VECTOR_WEIGHT)
    assert fused[0][0] == "right"
    # "exact" is the one prompt holding a rare term, and close to the top by vector.
    fused = fuse(by_vector, [("exact", 9.0), ("near", 1.1)], HYBRID_VECTOR_WEIGHT)
    assert fused[0][0] == "exact"
    assert [pid for pid, _ in fuse(by_vector, [], HYBRID_VECTOR_WEIGHT)] == [
        pid for pid, _ in by_vector
    ]
    assert fuse([], [("exact", 9.0)], HYBRID_VECTOR_WEIGHT)[0][0] == "exact"
    assert fuse([("only", 0.4)], [], 0.7) == [("only", 0.7)]
