"""The numpy and FAISS backends pass the shared vector contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from raeburnmemory.core.numpy_index import NumpyIndex
from raeburnmemory.core.testing import VectorIndexContract, unit_vectors
from raeburnmemory.core.vectors import VectorIndex


class TestNumpyIndex(VectorIndexContract):
    @pytest.fixture
    def index_factory(self) -> Callable[[int], VectorIndex]:
        return NumpyIndex


class TestFaissFlat(VectorIndexContract):
    @pytest.fixture
    def index_factory(self) -> Callable[[int], VectorIndex]:
        faiss_index = pytest.importorskip("raeburnmemory.core.faiss_index")
        pytest.importorskip("faiss")
        return lambda dim: faiss_index.FaissIndex(dim)


class TestFaissHnsw(VectorIndexContract):
    @pytest.fixture
    def index_factory(self) -> Callable[[int], VectorIndex]:
        faiss_index = pytest.importorskip("raeburnmemory.core.faiss_index")
        pytest.importorskip("faiss")
        return lambda dim: faiss_index.FaissIndex(dim, index="hnsw")


def test_hnsw_rebuilds_after_many_removals_and_never_resurrects() -> None:
    pytest.importorskip("faiss")
    from raeburnmemory.core.faiss_index import FaissIndex
    from raeburnmemory.core.model import VectorPayload

    index = FaissIndex(16, index="hnsw")
    vectors = unit_vectors(500, 16, seed=11)
    ids = [f"p{i}" for i in range(500)]
    index.add(ids, vectors, [VectorPayload("s", "a", 0.0)] * 500)
    index.remove(ids[:300])  # more than a fifth: the graph is rebuilt from live vectors
    assert len(index) == 200
    for row in (0, 150, 299):
        found = {pid for pid, _ in index.search(vectors[row], 50)}
        assert not found & set(ids[:300])
    assert index.search(vectors[400], 1)[0][0] == "p400"


def test_unknown_index_kind_is_refused() -> None:
    pytest.importorskip("faiss")
    from raeburnmemory.core.errors import ConfigurationError
    from raeburnmemory.core.faiss_index import FaissIndex

    with pytest.raises(ConfigurationError, match="hnsw"):
        FaissIndex(8, index="ivf")


def test_faiss_options_follow_the_shared_rules(tmp_path: Path) -> None:
    pytest.importorskip("faiss")
    from raeburnmemory.core.errors import ConfigurationError
    from raeburnmemory.core.faiss_index import FaissIndex
    from raeburnmemory.core.json_store import JsonStore

    with JsonStore.open(str(tmp_path / "graph.json")) as store:
        index = FaissIndex.create(dim=8, store=store, options={"index": "hnsw", "hnsw_m": "16"})
        assert index.kind == "hnsw"  # numbers arrive as text from -o and the environment
        for bad, match in (
            ({"hnsw_m": 0}, "hnsw_m must be a whole number from 1"),
            ({"ef_search": 2.5}, "ef_search must be a whole number from 1"),
            ({"index": "ivf"}, "index must be one of flat, hnsw, not 'ivf'"),
        ):
            with pytest.raises(ConfigurationError, match=match):
                FaissIndex.create(dim=8, store=store, options=bad)


@pytest.mark.parametrize("k", [5, 50])
@pytest.mark.parametrize("density", [0.1, 1.0])
def test_exact_search_ranks_as_a_full_product_for_sparse_and_dense_queries(
    k: int, density: float
) -> None:
    from raeburnmemory.core.model import SearchFilter, VectorPayload

    rng = np.random.default_rng(3)
    size, dim = 9_000, 64  # more vectors than one scoring chunk
    vectors = rng.standard_normal((size, dim)).astype(np.float32)
    vectors *= rng.random((size, dim)) < density
    ids = [f"p{i}" for i in range(size)]
    payloads = [VectorPayload(f"s{i % 3}", f"a{i % 100}", float(i)) for i in range(size)]
    index = NumpyIndex(dim)
    index.add(ids, vectors, payloads)
    index.remove(ids[:10])  # the last rows move into the freed ones
    live = np.arange(10, size)
    for query in vectors[[20, 4000, 8999]]:
        scores = vectors @ query
        for flt, passing in (
            (None, live),
            (SearchFilter(session_id="s1"), live[live % 3 == 1]),  # most rows are scored
            (SearchFilter(agent_id="a7"), live[live % 100 == 7]),  # a few rows are gathered
        ):
            found = index.search(query, k, flt)
            rows = [int(pid[1:]) for pid, _ in found]
            assert len(set(rows)) == k
            assert set(rows) <= set(passing.tolist())
            # Exact: the k best scores, best first (which of several equal scores is free).
            assert np.allclose([s for _, s in found], scores[rows], atol=1e-4)
            expected = np.sort(scores[passing])[::-1][:k]
            assert np.allclose([s for _, s in found], expected, atol=1e-4)


def test_top_k_never_repeats_a_row_whatever_the_scores() -> None:
    from raeburnmemory.core.numpy_index import top_k

    scores = np.array([1.0, -np.inf, -np.inf, np.nan, 0.5], dtype=np.float32)
    picked = top_k(scores, 3)
    assert len({row for row, _ in picked}) == 3
    assert picked[0] == (0, 1.0)


def test_sync_is_the_former_name_of_reconcile(tmp_path: Path) -> None:
    from raeburnmemory.core.json_store import JsonStore
    from raeburnmemory.core.numpy_index import NumpyIndex
    from raeburnmemory.core.store import Store

    class Reconciled(NumpyIndex):
        def __init__(self, dim: int) -> None:
            super().__init__(dim)
            self.reconciled: list[Store] = []

        def reconcile(self, store: Store) -> None:
            self.reconciled.append(store)

    with JsonStore.open(str(tmp_path / "graph.json")) as store:
        index = Reconciled(8)
        index.sync(store)
        assert index.reconciled == [store]
        NumpyIndex(8).reconcile(store)  # in memory: nothing to do
