"""Keyword search with FTS5, and hybrid search through MemoryGraph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.testing import interaction, interactions
from raeburnmemory.core.testing.examples import examples
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.sqlite import SQLiteStore
from raeburnmemory.sqlite._fts import match_expression


def test_words_in_prompts_and_responses_are_found(store: SQLiteStore) -> None:
    store.add(
        [
            interaction(
                1, prompt_text="How do I rotate TLS certificates?", response_text="Use certbot."
            ),
            interaction(
                2, prompt_text="Best sourdough starter?", response_text="Rye flour and time."
            ),
            interaction(3, prompt_text="Renew a certificate", response_text="Rotate keys yearly."),
        ],
        None,
    )
    assert {pid for pid, _ in store.keyword_search("rotate", 5, SearchFilter())} == {"p1", "p3"}
    hits = store.keyword_search("rye flour", 5, SearchFilter())
    assert [pid for pid, _ in hits] == ["p2"]
    assert hits[0][1] > 0
    assert store.keyword_search("ROTATE TLS", 1, SearchFilter())[0][0] == "p1"
    assert store.keyword_search("nothing-like-this", 5, SearchFilter()) == []


def test_more_matching_words_rank_higher(store: SQLiteStore) -> None:
    store.add(
        [
            interaction(1, prompt_text="postgres tuning"),
            interaction(2, prompt_text="postgres write tuning for heavy write loads"),
            interaction(3, prompt_text="gardening"),
        ],
        None,
    )
    ranked = store.keyword_search("postgres write tuning", 3, SearchFilter())
    assert [pid for pid, _ in ranked] == ["p2", "p1"]
    assert ranked[0][1] > ranked[1][1]


def test_filters_and_deletes_apply(store: SQLiteStore) -> None:
    store.add(interactions(40, sessions=4, agents=3), None)
    hits = store.keyword_search("sourdough", 10, SearchFilter(session_id="session-1"))
    assert hits
    assert all(store.get(pid).session_id == "session-1" for pid, _ in hits)  # type: ignore[union-attr]
    start = interaction(0).timestamp.timestamp()
    window = store.keyword_search("question", 50, SearchFilter(since=start + 5, until=start + 9))
    assert sorted(int(pid[1:]) for pid, _ in window) == [5, 6, 7, 8, 9]
    store.delete(["p1", "p9"])
    found = {pid for pid, _ in store.keyword_search("sourdough", 50, SearchFilter())}
    assert found == {"p17", "p25", "p33"}


def _found(store: SQLiteStore, text: str) -> set[str]:
    return {pid for pid, _ in store.keyword_search(text, 100, SearchFilter())}


def test_the_keyword_index_follows_adds_and_deletes(store: SQLiteStore, open_store: Any) -> None:
    other = open_store()
    store.add(interactions(10), None)
    assert _found(store, "sourdough") == {"p1", "p9"}
    other.add([interaction(17)], None)  # not indexed yet
    other.delete(["p9"])  # indexed: its index entries go with it
    store.add([interaction(25)], None)
    store.delete(["p25"])  # never indexed
    assert _found(other, "sourdough") == {"p1", "p17"}
    conn, _ = store._conn()
    conn.execute("INSERT INTO fts (fts, rank) VALUES ('integrity-check', 1)")  # raises if not
    store.compact()
    assert _found(store, "sourdough") == {"p1", "p17"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '"',
        'say "hello',
        "a AND OR NOT b",
        "NEAR(x y, 3)",
        "col:value",
        "prefix*",
        "(((",
        "-minus +plus ^caret",
        "'; DROP TABLE interactions; --",
        "émoji 🚀 ünïcödé 漢字",
        "x" * 10_000,
    ],
)
def test_any_text_is_a_safe_query(store: SQLiteStore, text: str) -> None:
    store.add(interactions(3), None)
    hits = store.keyword_search(text, 5, SearchFilter())
    assert isinstance(hits, list)
    assert store.count() == 3


@settings(max_examples=examples(150), deadline=None)
@given(st.text())
def test_match_expressions_are_always_valid(text: str) -> None:
    expression = match_expression(text)
    if expression is not None:
        assert expression.startswith('"')
        assert expression.count('"') % 2 == 0


def test_unicode_words_match_without_accents(store: SQLiteStore) -> None:
    store.add([interaction(1, prompt_text="Crème brûlée au café")], None)
    assert store.keyword_search("creme brulee", 1, SearchFilter())[0][0] == "p1"


def _add(graph: MemoryGraph, pid: str, prompt: str, response: str, session: str = "s") -> None:
    graph.add_interaction(
        {"id": pid, "text": prompt}, {"id": f"r{pid}", "text": response}, {"id": "a"}, session
    )


@pytest.mark.parametrize("vector_backend", ["numpy", "sqlite-vec"])
def test_hybrid_search_fuses_keyword_and_vector_rankings(
    tmp_path: Path, vector_backend: str
) -> None:
    options = {
        "db_path": str(tmp_path / "graph.db"),
        "storage_backend": "sqlite",
        "embedding_model": None,
    }
    with MemoryGraph(**options, vector_backend=vector_backend) as graph:
        for i in range(30):
            _add(graph, f"f{i}", f"filler note {i} about the weather", "cloudy", f"s{i % 2}")
        _add(
            graph, "A", "tell me something odd", "quokkas smile a lot"
        )  # only its response matches
        _add(graph, "B", "sourdoughs rising slowly", "patience")  # no exact word matches
        query = "sourdough quokkas"
        assert [hit.id for hit in graph.search(query, 3, mode="keyword")] == ["A"]
        assert graph.search(query, 1, mode="vector")[0].id == "B"
        hybrid = graph.search(query, 3, mode="hybrid")
        assert {hit.id for hit in hybrid[:2]} == {"A", "B"}  # the best of each ranking
        assert hybrid[0].score >= hybrid[1].score >= hybrid[2].score
        assert {hit.response_text for hit in hybrid[:2]} == {"quokkas smile a lot", "patience"}
        filtered = graph.search("weather", 5, mode="hybrid", session_id="s1")
        assert len(filtered) == 5
        assert {hit.session_id for hit in filtered} == {"s1"}
