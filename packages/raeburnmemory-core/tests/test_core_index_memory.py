"""The vector index is built from the store a block at a time: never a second copy of every vector.

Memory is measured with ``tracemalloc``, which sees numpy's buffers as well as Python objects:
the figures are bytes allocated, not timings, so they do not depend on the machine's load.
"""

from __future__ import annotations

import functools
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.errors import StoreLockedError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.memory._encoding import encode
from raeburnmemory.core.model import EncoderInfo, SearchFilter
from raeburnmemory.core.numpy_index import NumpyIndex, scan
from raeburnmemory.core.store import StoredVectors, VectorBlocks
from raeburnmemory.core.testing.data import interactions, unit_vectors
from raeburnmemory.memory_graph import MemoryGraph

# Vectors of 256 dimensions; more of them than one block of the store's (8,192 rows).
ENCODER = HashingEncoder(256)
COUNT = 40_000
MATRIX_BYTES = COUNT * ENCODER.dim * 4


def _batch(count: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "prompt": {"id": f"p{start + i}", "text": f"prompt {start + i} about topic {i % 37}"},
            "response": {"id": f"r{start + i}", "text": "ok"},
            "agent": {"id": f"agent-{i % 3}"},
            "session_id": f"s{(start + i) // 50}",
        }
        for i in range(count)
    ]


def _peak_of_index_build(
    graph: MemoryGraph, write: Callable[[], object], count: int = COUNT
) -> tuple[int, int]:
    """The traced memory at its peak while ``write()`` built the graph's index, and held once
    ``write()`` returned (the index and the store's own bookkeeping)."""
    keeper = graph._keeper
    add_own = keeper.add_own
    peaks = []

    def measured(*args: Any) -> None:
        tracemalloc.reset_peak()
        add_own(*args)
        peaks.append(tracemalloc.get_traced_memory()[1])

    keeper.add_own = measured  # type: ignore[method-assign]
    tracemalloc.start()
    try:
        write()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        del keeper.add_own
    assert len(keeper.index or []) == count  # built by the write
    return max(peaks), held


def test_the_first_index_build_after_a_batch_holds_no_second_copy_of_the_vectors(
    tmp_path: Path,
) -> None:
    """Building the index right after the batch used to hold the batch's vectors, every vector
    read back from the store and the index's own matrix at once (three copies); now the batch's
    vectors go first and the store's come a block at a time."""
    items = _batch(COUNT)
    with MemoryGraph(db_path=tmp_path / "graph.json", embedding_model=ENCODER) as graph:
        peak, held = _peak_of_index_build(graph, lambda: graph.batch_add(items))
    # Past what stays (the index's matrix): the batch's interactions and a block of vectors
    # (measured: 0.95 of the vectors' size; 2.6 before the index was built a block at a time).
    extra = peak - held
    assert extra < 1.5 * MATRIX_BYTES, f"{extra / 1e6:.1f} MB, vectors {MATRIX_BYTES / 1e6:.1f} MB"


def test_a_batch_written_whole_goes_to_a_built_index_without_a_copy(tmp_path: Path) -> None:
    """An index built already used to take a batch's vectors through a copy of the rows of the
    items written, made even when every item was; now it takes the batch's matrix itself."""
    items = _batch(COUNT)
    with MemoryGraph(db_path=tmp_path / "graph.json", embedding_model=ENCODER) as graph:
        graph.batch_add(_batch(10, start=COUNT))
        assert graph._keeper.ensure(graph.store) is not None  # built before the batch
        peak, held = _peak_of_index_build(graph, lambda: graph.batch_add(items), COUNT + 10)
    # Past what stays: the batch's own matrix (let go once the write returns) and the index's
    # bookkeeping, no copy of the vectors (measured: 1.72 of the vectors' size; 2.72 with it).
    extra = peak - held
    assert extra < 2.2 * MATRIX_BYTES, f"{extra / 1e6:.1f} MB, vectors {MATRIX_BYTES / 1e6:.1f} MB"


def test_an_index_built_from_a_stored_store_holds_no_second_copy(tmp_path: Path) -> None:
    """An index built from a store already written (the vectors file, then the journal) reads
    its vectors a block at a time too, instead of all of them into one matrix first."""
    path = str(tmp_path / "graph.json")
    with JsonStore.open(path) as store:
        store.set_encoder_info(EncoderInfo(ENCODER.name, ENCODER.dim))
        first = interactions(COUNT)
        store.add(first[:30_000], unit_vectors(30_000, ENCODER.dim, seed=1))
        store.compact()  # rows in the vectors file, the rest in the journal
        store.add(first[30_000:], unit_vectors(COUNT - 30_000, ENCODER.dim, seed=2))
    with MemoryGraph(db_path=path, embedding_model=ENCODER) as graph:
        one_more = functools.partial(graph.add_interaction, "one more")
        peak, held = _peak_of_index_build(graph, one_more, COUNT + 1)
    # Past what stays: a block of vectors (measured: 0.47 of the vectors' size; 1.1 before).
    extra = peak - held
    assert extra < 0.8 * MATRIX_BYTES, f"{extra / 1e6:.1f} MB, vectors {MATRIX_BYTES / 1e6:.1f} MB"


def _blocks(stored: StoredVectors, rows: int) -> VectorBlocks:
    parts = (
        StoredVectors(
            stored.ids[i : i + rows], stored.vectors[i : i + rows], stored.payloads[i : i + rows]
        )
        for i in range(0, len(stored), rows)
    )
    return VectorBlocks(len(stored), parts)


@pytest.mark.parametrize("rows", [1, 7, 512, 5000])
def test_an_index_loaded_in_blocks_is_the_index_loaded_at_once(rows: int) -> None:
    """Same rows, same order, room made once: every score is the same, bit for bit."""
    count, dim = 1300, 96
    vectors = unit_vectors(count, dim, seed=11)
    vectors[:, dim // 2 :] *= np.random.default_rng(1).random((count, 1)) < 0.5  # some sparse
    stored = StoredVectors(
        [f"p{i}" for i in range(count)], vectors, [item.payload for item in interactions(count)]
    )
    whole, blocked = NumpyIndex(dim), NumpyIndex(dim)
    whole.load(stored)
    blocked.load_blocks(_blocks(stored, rows))
    assert blocked._columns.shape == whole._columns.shape == (dim, count)
    queries = unit_vectors(20, dim, seed=12)
    queries[10:, 8:] = 0  # sparse queries read only their non-zero dimensions
    for q in queries:
        for flt in (SearchFilter(), SearchFilter(session_id="s0"), SearchFilter(agent_id="a1")):
            assert blocked.search(q, 10, flt) == whole.search(q, 10, flt)
        assert blocked.search(q, 10) == scan(stored, q, 10)


def test_the_json_store_blocks_are_its_load_vectors_rows(tmp_path: Path) -> None:
    """Rows of the vectors file (some deleted, some replaced) then the journal's, as
    ``load_vectors`` lays them out, with their payloads; nothing is left to report after."""
    path = str(tmp_path / "graph.json")
    encoder = HashingEncoder(32)
    items = interactions(60)
    vectors = encode(encoder, [item.prompt_text for item in items])
    with JsonStore.open(path) as store, JsonStore.open(path) as other:
        store.set_encoder_info(EncoderInfo(encoder.name, encoder.dim))
        store.add(items[:40], vectors[:40])
        store.compact()
        store.delete(["p3", "p17"])
        store.replace([items[5]], unit_vectors(1, 32, seed=4))
        store.add(items[40:], vectors[40:])
        other.add(interactions(70)[60:], unit_vectors(10, 32, seed=5))  # another writer's
        expected = store.load_vectors()
        store.add(interactions(71)[70:], unit_vectors(1, 32, seed=6))
        with store.vector_blocks(rows=8) as blocks:
            assert blocks.count == len(expected) + 1
            parts = list(blocks)
        assert not store.refresh()
    assert all(len(part) <= 8 + 2048 for part in parts)
    ids = [pid for part in parts for pid in part.ids]
    assert ids == [*expected.ids, "p70"]
    np.testing.assert_array_equal(
        np.concatenate([part.vectors for part in parts])[: len(expected)], expected.vectors
    )
    assert [p for part in parts for p in part.payloads][: len(expected)] == expected.payloads


def test_the_json_store_holds_its_lock_while_blocks_are_read_and_no_longer(
    tmp_path: Path,
) -> None:
    """Another writer waits while the blocks are read, not while an index builds from them."""
    path = str(tmp_path / "graph.json")
    with (
        JsonStore.open(path) as store,
        JsonStore.open(path, options={"lock_timeout": 0.2}) as other,
    ):
        store.set_encoder_info(EncoderInfo("e", 8))
        store.add(interactions(30), unit_vectors(30, 8))
        store.compact()  # rows of the vectors file: blocks of exactly 4
        with store.vector_blocks(rows=4) as blocks:
            parts = iter(blocks)
            next(parts)
            with pytest.raises(StoreLockedError):
                other.add(interactions(31)[30:], unit_vectors(1, 8))
            rest = list(parts)
            other.add(interactions(32)[30:], unit_vectors(2, 8))  # a graph is built here
        assert sum(len(part) for part in rest) == 26
        changes = store.refresh()
        assert changes.added.ids == ["p30", "p31"]
