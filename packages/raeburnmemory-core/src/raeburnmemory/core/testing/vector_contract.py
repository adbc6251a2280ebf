"""What every vector backend must do: exact-enough answers, filters that keep k, no resurrection."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.model import SearchFilter, VectorPayload
from raeburnmemory.core.testing.data import unit_vectors
from raeburnmemory.core.vectors import VectorIndex

__all__ = ["VectorIndexContract"]

IndexFactory = Callable[[int], VectorIndex]
DIM = 32


def _payloads(count: int, start: int = 0) -> list[VectorPayload]:
    return [VectorPayload(f"s{i % 5}", f"a{i % 3}", float(i)) for i in range(start, start + count)]


def _ids(count: int, start: int = 0) -> list[str]:
    return [f"p{i}" for i in range(start, start + count)]


def _exact(
    matrix: np.ndarray, ids: list[str], query: np.ndarray, k: int, keep: list[bool] | None = None
) -> list[str]:
    scores = matrix @ query
    order = np.argsort(-scores, kind="stable")
    picked = [ids[i] for i in order if keep is None or keep[i]]
    return picked[:k]


class VectorIndexContract:
    """Subclass it and provide ``index_factory``: ``index_factory(dim) -> VectorIndex``."""

    @pytest.fixture
    def index_factory(self) -> IndexFactory:
        """Builds an empty index of the backend under test."""
        raise NotImplementedError("provide an index_factory fixture")

    @pytest.fixture
    def index(self, index_factory: IndexFactory) -> VectorIndex:
        """An empty index of dimension 32."""
        return index_factory(DIM)

    def test_empty_index_answers_nothing(self, index: VectorIndex) -> None:
        assert len(index) == 0
        assert index.search(unit_vectors(1, DIM)[0], 5) == []
        assert index.dim == DIM

    def test_add_refuses_vectors_that_do_not_fit(self, index: VectorIndex) -> None:
        index.add(_ids(3), unit_vectors(3, DIM), _payloads(3))
        for vectors in (
            unit_vectors(3, DIM),  # rows != ids
            unit_vectors(2, DIM + 1),  # another dimension
            unit_vectors(2, DIM)[0],  # a 1-D array
        ):
            with pytest.raises(InvalidInteractionError, match=f"2 vectors of {DIM} dimensions"):
                index.add(_ids(2, start=3), vectors, _payloads(2, start=3))
            assert len(index) == 3

    @pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
    def test_add_refuses_non_finite_vectors(self, index: VectorIndex, value: float) -> None:
        index.add(_ids(3), unit_vectors(3, DIM), _payloads(3))
        vectors = unit_vectors(2, DIM, seed=1)
        vectors[1, 0] = value
        with pytest.raises(InvalidInteractionError, match="NaN or infinite"):
            index.add(_ids(2, start=3), vectors, _payloads(2, start=3))
        assert len(index) == 3
        assert [pid for pid, _ in index.search(vectors[0], 10)] != []
        assert {pid for pid, _ in index.search(vectors[0], 10)} <= set(_ids(3))

    def test_finds_a_stored_vector_first_with_its_cosine(self, index: VectorIndex) -> None:
        vectors = unit_vectors(200, DIM)
        index.add(_ids(200), vectors, _payloads(200))
        assert len(index) == 200
        hits = index.search(vectors[17], 5)
        assert hits[0][0] == "p17"
        assert hits[0][1] == pytest.approx(1.0, abs=1e-4)
        assert [score for _, score in hits] == sorted((s for _, s in hits), reverse=True)
        assert len(hits) == 5

    def test_top_hits_match_exact_search(self, index: VectorIndex) -> None:
        vectors = unit_vectors(300, DIM, seed=1)
        index.add(_ids(300), vectors, _payloads(300))
        query = unit_vectors(1, DIM, seed=2)[0]
        expected = _exact(vectors, _ids(300), query, 10)
        assert [pid for pid, _ in index.search(query, 10)] == expected

    def test_k_larger_than_the_index_returns_everything(self, index: VectorIndex) -> None:
        vectors = unit_vectors(4, DIM)
        index.add(_ids(4), vectors, _payloads(4))
        assert sorted(pid for pid, _ in index.search(vectors[0], 50)) == _ids(4)

    def test_adding_an_id_again_replaces_its_vector(self, index: VectorIndex) -> None:
        vectors = unit_vectors(20, DIM)
        index.add(_ids(20), vectors, _payloads(20))
        index.add(["p3"], vectors[9:10], _payloads(1, 3))
        assert len(index) == 20
        hits = index.search(vectors[9], 2)
        assert {pid for pid, _ in hits} == {"p3", "p9"}

    def test_a_removed_id_never_comes_back(self, index: VectorIndex) -> None:
        vectors = unit_vectors(100, DIM, seed=3)
        index.add(_ids(100), vectors, _payloads(100))
        removed = {f"p{i}" for i in range(0, 100, 3)}
        index.remove([*sorted(removed), "unknown"])
        assert len(index) == 100 - len(removed)
        for row in range(0, 100, 3):
            hits = index.search(vectors[row], 100)
            assert not removed & {pid for pid, _ in hits}
            assert len(hits) == 100 - len(removed)

    def test_random_adds_and_removes_agree_with_exact_search(self, index: VectorIndex) -> None:
        rng = np.random.default_rng(7)
        vectors = unit_vectors(400, DIM, seed=4)
        live: dict[str, int] = {}
        for step in range(8):
            rows = rng.choice(400, size=40, replace=False)
            index.add([f"p{r}" for r in rows], vectors[rows], _payloads(1) * len(rows))
            live.update({f"p{r}": int(r) for r in rows})
            gone = rng.choice(sorted(live), size=10, replace=False).tolist()
            index.remove(gone)
            for pid in gone:
                live.pop(pid)
            query = vectors[int(rng.integers(400))]
            ids = sorted(live)
            expected = _exact(vectors[[live[p] for p in ids]], ids, query, 5)
            got = [pid for pid, _ in index.search(query, 5)]
            assert got == expected, f"step {step}"

    @pytest.mark.parametrize(
        ("flt", "allowed"),
        [
            (SearchFilter(session_id="s2"), lambda i: i % 5 == 2),
            (SearchFilter(agent_id="a1"), lambda i: i % 3 == 1),
            (SearchFilter(since=100.0, until=160.0), lambda i: 100 <= i <= 160),
            (SearchFilter(session_id="s1", agent_id="a0"), lambda i: i % 5 == 1 and i % 3 == 0),
        ],
    )
    def test_filters_keep_top_k(
        self, index: VectorIndex, flt: SearchFilter, allowed: Callable[[int], bool]
    ) -> None:
        vectors = unit_vectors(600, DIM, seed=5)
        index.add(_ids(600), vectors, _payloads(600))
        keep = [allowed(i) for i in range(600)]
        query = unit_vectors(1, DIM, seed=6)[0]
        expected = _exact(vectors, _ids(600), query, 10, keep)
        hits = index.search(query, 10, flt)
        assert len(hits) == 10
        assert all(allowed(int(pid[1:])) for pid, _ in hits)
        assert [pid for pid, _ in hits] == expected

    def test_a_filter_that_matches_few_returns_all_of_them(self, index: VectorIndex) -> None:
        vectors = unit_vectors(500, DIM, seed=8)
        payloads = _payloads(500)
        payloads[123] = VectorPayload("rare", "a0", 123.0)
        payloads[321] = VectorPayload("rare", "a0", 321.0)
        index.add(_ids(500), vectors, payloads)
        hits = index.search(vectors[0], 5, SearchFilter(session_id="rare"))
        assert sorted(pid for pid, _ in hits) == ["p123", "p321"]
        assert index.search(vectors[0], 5, SearchFilter(session_id="nobody")) == []

    def test_clear_forgets_everything(self, index: VectorIndex) -> None:
        vectors = unit_vectors(10, DIM)
        index.add(_ids(10), vectors, _payloads(10))
        index.clear()
        assert len(index) == 0
        assert index.search(vectors[0], 3) == []
        index.add(_ids(2), vectors[:2], _payloads(2))
        assert index.search(vectors[1], 1)[0][0] == "p1"
