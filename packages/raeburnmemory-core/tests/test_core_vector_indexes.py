"""The numpy and FAISS backends pass the shared vector contract."""

from __future__ import annotations

from collections.abc import Callable

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
