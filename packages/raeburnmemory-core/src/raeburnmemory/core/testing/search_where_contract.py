"""The graph contract's cases about metadata filters in searches (``search(where=...)``,
``get_similar_prompts(where=...)``).

Part of :class:`~raeburnmemory.core.testing.graph_contract.MemoryGraphContract`, which mixes it
in. Random metadata and random filters (hypothesis, :mod:`.where_strategies`) are searched and
compared with a brute-force evaluation: every stored prompt scored against the query with the
graph's own encoder, the ones passing the filter kept, best first, **hits of equal score in the
order of their prompt ids** (the documented tie order), the first ``top_k`` of them.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given

from raeburnmemory.core.errors import InvalidFilterError
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import MAX_TOP_K, Interaction
from raeburnmemory.core.testing.data import interaction
from raeburnmemory.core.testing.examples import contract_settings
from raeburnmemory.core.testing.where_strategies import cases
from raeburnmemory.core.where import matches

__all__ = ["SearchWhereContract"]

# A few prompt texts, repeated, so that many prompts tie on score (the same vector).
_TEXTS = (
    "how do I bake sourdough bread",
    "bake bread with rye flour",
    "tune a postgres database",
    "hiking in the alps in autumn",
)
_QUERY = "bake sourdough bread at home"
# Distinct vectors whose scores are closer than this are not told apart by the brute force.
_CLOSE = 1e-5


def _records(metadata: list[dict[str, Any]]) -> list[Interaction]:
    return [
        interaction(
            i,
            prefix="w",
            prompt_text=_TEXTS[(i * 7) % len(_TEXTS)],
            metadata=meta,
            sessions=2,
        )
        for i, meta in enumerate(metadata)
    ]


def _expected(
    graph: MemoryGraph, items: list[Interaction], mapping: dict[str, Any], k: int, **flt: Any
) -> list[str]:
    """The brute force: the ``k`` best prompts passing the filters, ties by prompt id."""
    texts = sorted({item.prompt_text for item in items})
    vectors = np.asarray(graph._encode([*texts, _QUERY]), dtype=np.float64)
    scores = dict(zip(texts, vectors[:-1] @ vectors[-1], strict=True))
    distinct = sorted({vectors[i].tobytes(): scores[t] for i, t in enumerate(texts)}.values())
    assume(all(b - a > _CLOSE for a, b in itertools.pairwise(distinct)))
    passing = [
        item
        for item in items
        if matches(mapping, item.metadata)
        and all(getattr(item, name) == value for name, value in flt.items())
    ]
    passing.sort(key=lambda item: (-scores[item.prompt_text], item.prompt_id))
    return [item.prompt_id for item in passing[:k]]


class SearchWhereContract:
    """Metadata filters in searches, on a MemoryGraph: the same hits as a brute force."""

    @contract_settings(15, HealthCheck.filter_too_much)
    @given(case=cases())
    def test_random_filters_search_as_a_brute_force(
        self, graph: MemoryGraph, case: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    ) -> None:
        metadata, filters = case
        graph.forget(everything=True)
        items = _records(metadata)
        graph.batch_add(items)
        for mapping in filters:
            for k in (1, 3, len(items) + 1):
                flt: dict[str, Any] = {"session_id": "session-1"} if k == 3 else {}
                expected = _expected(graph, items, mapping, k, **flt)
                found = graph.search(_QUERY, k, where=mapping, **flt)
                assert [hit.id for hit in found] == expected, (mapping, k)
                similar = graph.get_similar_prompts(_QUERY, k, where=mapping, **flt)
                assert similar == expected, (mapping, k)
            if graph.store.supports_keyword_search:
                self._check_keyword_search(graph, mapping)

    @staticmethod
    def _check_keyword_search(graph: MemoryGraph, mapping: dict[str, Any]) -> None:
        """Filtered keyword hits are the unfiltered ranking's hits that pass the filter (a
        keyword score does not depend on the filter)."""
        every = graph.search(_QUERY, MAX_TOP_K, mode="keyword")
        passing = [hit.id for hit in every if matches(mapping, hit.metadata)]
        for k in (1, 3):
            found = graph.search(_QUERY, k, mode="keyword", where=mapping)
            assert [hit.id for hit in found] == passing[:k], (mapping, k)

    @pytest.mark.parametrize("mode", ["vector", "keyword", "hybrid"])
    def test_a_selective_filter_still_gives_top_k(self, graph: MemoryGraph, mode: str) -> None:
        if mode != "vector" and not graph.store.supports_keyword_search:
            pytest.skip("the store has no keyword search")
        items = [
            interaction(i, metadata={"user": "rare" if i % 20 == 3 else "common", "i": i})
            for i in range(120)
        ]
        graph.batch_add(items)
        rare = {item.prompt_id for item in items if item.metadata["user"] == "rare"}
        # every prompt holds the word "question": keyword search finds them all
        found = graph.search("question", 6, mode=mode, where={"user": "rare"})
        assert len(found) == 6
        assert {hit.id for hit in found} == rare
        combined = {"user": "rare", "i": {"$gte": 50}}
        found = graph.search("question", 6, mode=mode, where=combined, agent_id="agent-0")
        expected = {item.prompt_id for item in items if item.agent_id == "agent-0"}
        expected &= {pid for pid in rare if int(pid[1:]) >= 50}
        assert {hit.id for hit in found} == expected
        assert expected

    def test_where_passes_through_every_search_call(self, graph: MemoryGraph) -> None:
        graph.batch_add([interaction(i, metadata={"n": i}) for i in range(12)])
        where = {"n": {"$in": [2, 5]}}
        assert {hit.id for hit in graph.search("bread", 5, where=where)} == {"p2", "p5"}
        assert set(asyncio.run(graph.get_similar_prompts_async("bread", 5, where=where))) == {
            "p2",
            "p5",
        }
        hits = asyncio.run(graph.search_async("bread", 5, where=where))
        assert {hit.id for hit in hits} == {"p2", "p5"}
        nowait = graph.search_nowait("bread", 5, where=where)
        assert nowait is None or {hit.id for hit in nowait} == {"p2", "p5"}
        assert graph.search("bread", 5, where={}) == graph.search("bread", 5)

    @pytest.mark.parametrize("mode", ["vector", "keyword", "hybrid"])
    def test_a_malformed_filter_is_named(self, graph: MemoryGraph, mode: str) -> None:
        graph.batch_add([interaction(i) for i in range(3)])
        with pytest.raises(InvalidFilterError, match=r'where\["n"\]\["\$gt"\]'):
            graph.search("bread", 3, mode=mode, where={"n": {"$gt": "x"}})
        with pytest.raises(InvalidFilterError, match=r"\$regex"):
            graph.get_similar_prompts("bread", 3, where={"n": {"$regex": "x"}})
