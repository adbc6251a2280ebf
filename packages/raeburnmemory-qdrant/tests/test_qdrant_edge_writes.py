"""How points reach an embedded shard: each row's vector stored exactly whatever the matrix
handed over, and no work done twice (point ids, row hashes, flushes) on the write and reopen
paths, which set how fast ``batch_add`` and reopening are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import StoredVectors
from raeburnmemory.core.testing import interactions
from raeburnmemory.qdrant import _edge, _in_step, index
from raeburnmemory.qdrant._points import point_id
from raeburnmemory.qdrant.settings import resolve_settings


def _options(tmp_path: Path) -> dict[str, Any]:
    return {
        "db_path": str(tmp_path / "graph.json"),
        "embedding_model": None,
        "vector_backend": "qdrant",
    }


def _counting(monkeypatch: pytest.MonkeyPatch, modules: list[Any], name: str) -> list[int]:
    """Count the calls of the function ``name`` through every module that imported it."""
    calls = [0]
    real: Callable[..., Any] = getattr(modules[0], name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    for module in modules:
        monkeypatch.setattr(module, name, counted, raising=False)
    return calls


def _unaligned(rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The same float32 rows, in a buffer at an odd byte offset (as a memory-mapped file gives)."""
    raw = bytearray(rows.nbytes + 1)
    matrix = np.frombuffer(raw, dtype=np.float32, offset=1, count=rows.size).reshape(rows.shape)
    matrix[:] = rows
    assert not matrix.flags.aligned
    return matrix


@pytest.mark.parametrize(
    "shape",
    [
        np.asarray,
        _unaligned,
        lambda rows: rows.astype(">f4"),  # big-endian
        lambda rows: rows.astype(np.float64),
        np.asfortranarray,
    ],
)
def test_every_vector_is_stored_exactly_whatever_the_matrix(
    tmp_path: Path, shape: Callable[[npt.NDArray[np.float32]], npt.NDArray[Any]]
) -> None:
    rows = np.random.default_rng(3).standard_normal((5, 8)).astype(np.float32)
    engine = _edge.EdgeEngine(resolve_settings(str(tmp_path / "graph.json"), {}))
    try:
        engine.open(8, None)
        ids = [f"p{n}" for n in range(5)]
        engine.upsert(
            StoredVectors(ids, shape(rows), [VectorPayload("s", "a", float(n)) for n in range(5)])
        )
        with engine._shard() as shard:
            records = shard.retrieve([point_id(pid) for pid in ids], False, True)
        stored = {str(record.id): record.vector for record in records}
        for pid, row in zip(ids, rows, strict=True):
            vector = stored[point_id(pid)]
            vector = vector[""] if isinstance(vector, dict) else vector
            # Cosine shards keep vectors normalized: compare directions, to float32 precision.
            np.testing.assert_allclose(vector, row / np.linalg.norm(row), rtol=1e-6, atol=1e-7)
    finally:
        engine.release()


def test_filling_an_empty_shard_computes_each_point_id_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch, [index, _edge], "point_id")
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(40))
        assert calls[0] == 40
        assert len(graph.get_similar_prompts("anything", 50)) == 40


class _CountingFlushes:
    """A real shard, with its flushes counted."""

    def __init__(self, shard: Any) -> None:
        self.shard = shard
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        self.shard.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shard, name)


def test_a_large_upsert_flushes_the_shard_once_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_edge, "FLUSH_EVERY", 10)
    monkeypatch.setattr(_edge, "EDGE_BATCH", 8)
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(5))
        handle = graph._keeper.index._engine._lease.shard  # type: ignore[union-attr]
        counting = _CountingFlushes(handle._shard)
        handle._shard = counting
        graph.batch_add(interactions(40, start=5))
        assert counting.flushes == 1
        graph.batch_add(interactions(5, start=45))  # fewer than FLUSH_EVERY since: no flush
        assert counting.flushes == 1
        assert len(graph.get_similar_prompts("anything", 60)) == 50


def test_reopening_in_step_hashes_the_stores_rows_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
    calls = _counting(monkeypatch, [_in_step, index], "row_hashes")
    with MemoryGraph(**_options(tmp_path)) as graph:
        assert calls[0] == 1
        assert len(graph.get_similar_prompts("anything", 50)) == 30
