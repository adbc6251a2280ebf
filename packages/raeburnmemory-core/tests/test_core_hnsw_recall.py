"""HNSW keeps its recall on dense vectors: ``ef_search`` is measured on the graph's own data."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

pytest.importorskip("faiss")

from raeburnmemory.core import _hnsw_copy, _hnsw_tuning
from raeburnmemory.core.faiss_index import FaissIndex
from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.numpy_index import NumpyIndex
from raeburnmemory.core.testing import unit_vectors
from raeburnmemory.memory_graph import MemoryGraph

# Random dense vectors: every dimension matters, the hard case for a graph search. At 5,000
# of them, 64 candidates per search (the old fixed default) find about nine in ten of the top 10.
DIM = 128
SIZE = 5000


def recall_at_10(index: FaissIndex, exact: NumpyIndex, queries: npt.NDArray[np.float32]) -> float:
    """Mean share of the exact top 10 that ``index`` returns."""
    found = 0
    for query in queries:
        truth = {pid for pid, _ in exact.search(query, 10)}
        found += len(truth & {pid for pid, _ in index.search(query, 10)})
    return found / (10 * len(queries))


def filled(index: FaissIndex | NumpyIndex, vectors: npt.NDArray[np.float32]) -> Any:
    """``index`` holding ``vectors`` as prompts p0, p1, ..."""
    ids = [f"p{i}" for i in range(len(vectors))]
    index.add(ids, vectors, [VectorPayload("s", "a", 0.0)] * len(ids))
    return index


@pytest.fixture(scope="module")
def dense() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], NumpyIndex]:
    """Stored vectors, fresh queries from the same distribution, and an exact index of them."""
    vectors = unit_vectors(SIZE, DIM, seed=21)
    queries = unit_vectors(100, DIM, seed=22)
    return vectors, queries, filled(NumpyIndex(DIM), vectors)


def test_default_settings_reach_the_recall_target_on_dense_vectors(dense: Any) -> None:
    vectors, queries, exact = dense
    index = filled(FaissIndex(DIM, index="hnsw"), vectors)
    assert recall_at_10(index, exact, queries) >= 0.97
    assert index._hnsw is not None
    assert index._hnsw.ef_search > 64


def test_a_given_ef_search_wins(dense: Any) -> None:
    vectors, queries, exact = dense
    index = filled(FaissIndex(DIM, index="hnsw", ef_search=64), vectors)
    # The old fixed default on the same graph parameters: the data is hard enough to need more.
    assert recall_at_10(index, exact, queries) < 0.97
    assert index._hnsw is not None
    assert index._hnsw.ef_search == 64
    assert index._hnsw.tuning is None


def test_the_graph_measures_again_once_it_has_doubled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FaissIndex, "tune_from", 400)
    vectors = unit_vectors(1000, 16, seed=3)
    index = FaissIndex(16, index="hnsw")
    payloads = [VectorPayload("s", "a", 0.0)] * 1000
    ids = [f"p{i}" for i in range(1000)]
    sizes = []
    # Too small, measured, not doubled yet, doubled but by too few new prompts, doubled.
    for stop in (300, 500, 900, 999, 1000):
        start = len(index)
        index.add(ids[start:stop], vectors[start:stop], payloads[start:stop])
        assert index._hnsw is not None
        sizes.append(None if index._hnsw.tuning is None else index._hnsw.tuning.size)
    assert sizes == [None, 500, 500, 500, 500]
    index.add(ids[:60], vectors[:60], payloads[:60])  # replacements are not new prompts
    assert index._hnsw.tuning is not None
    assert index._hnsw.tuning.size == 500
    more = unit_vectors(60, 16, seed=4)
    index.add([f"q{i}" for i in range(60)], more, payloads[:60])
    assert index._hnsw.tuning.size == 1060


class DenseTextEncoder:
    """Each text's vector is drawn at random from its CRC-32: dense and repeatable."""

    name = "test-dense-128"
    dim = DIM

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One normalized random row per text."""
        rows = [
            np.random.default_rng(zlib.crc32(text.encode())).standard_normal(DIM) for text in texts
        ]
        matrix = np.asarray(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_the_measured_ef_search_is_kept_with_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "graph.json"
    measured: list[int] = []
    original = _hnsw_tuning.choose_ef_search

    def counted(*args: Any, **kwargs: Any) -> int:
        measured.append(original(*args, **kwargs))
        return measured[-1]

    monkeypatch.setattr(_hnsw_tuning, "choose_ef_search", counted)
    items = [
        {
            "prompt": {"id": f"p{i}", "text": f"prompt {i}"},
            "response": {"id": f"r{i}", "text": "ok"},
            "agent": {"id": "a"},
            "session_id": "s",
        }
        for i in range(SIZE)
    ]
    with MemoryGraph(path, embedding_model=DenseTextEncoder(), vector_backend="numpy") as memory:
        memory.batch_add(items)
    options = {"vector_backend": "faiss", "index": "hnsw"}
    with MemoryGraph(path, embedding_model=DenseTextEncoder(), **options) as memory:
        memory.get_similar_prompts("prompt 7", 1)  # the graph is built, measured and copied
    assert len(measured) == 1
    assert measured[0] > 64
    cached = _hnsw_copy.read(Path(f"{path}.hnsw"), dim=DIM, m=32)
    assert cached is not None
    assert cached.tuning == _hnsw_copy.Tuning(measured[0], SIZE)
    with MemoryGraph(path, embedding_model=DenseTextEncoder(), **options) as memory:
        assert memory.get_similar_prompts("prompt 7", 1) == ["p7"]
        index = memory._keeper.index
        assert isinstance(index, FaissIndex)
        assert index._hnsw is not None
        assert index._hnsw.ef_search == measured[0]
    assert len(measured) == 1  # read back with the copy, not measured again


@pytest.mark.parametrize(
    "recorded",
    [None, "64", {"ef_search": 0, "size": 10}, {"ef_search": 96}, {"ef_search": True, "size": 5}],
)
def test_a_copy_without_a_sound_tuning_record_has_none(recorded: Any) -> None:
    assert _hnsw_copy.Tuning.from_json(recorded) is None
