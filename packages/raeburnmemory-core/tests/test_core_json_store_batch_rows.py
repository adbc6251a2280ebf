"""After a large batch, the JSON store hands its vectors over from the rows the batch wrote to
the vectors file, not by decoding them from the journal again; and a compaction forces its
files to disk before it commits them, even when they are flushed side by side."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

from raeburnmemory.core.errors import StoreError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.json_store._journal import JournalFile
from raeburnmemory.core.json_store._vector_file import SUFFIXES, preferred_format, read_vector_info
from raeburnmemory.core.json_store._vector_tail import TAIL_ROWS
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.store import StoredVectors
from raeburnmemory.core.testing.data import interactions, unit_vectors

DIM = 8
BATCH = TAIL_ROWS + 5


def _store(path: Path) -> JsonStore:
    store = JsonStore.open(str(path))
    store.set_encoder_info(EncoderInfo("test-encoder", DIM))
    return store


def _with_batch(path: Path, vectors: np.ndarray) -> JsonStore:
    """A new store holding one batch of ``interactions`` with ``vectors``."""
    store = _store(path)
    store.add(interactions(len(vectors)), vectors)
    return store


def _blocks(store: JsonStore, rows: int = 1000) -> StoredVectors:
    """Every block ``vector_blocks`` hands over, joined."""
    ids: list[str] = []
    payloads: list[Any] = []
    parts: list[np.ndarray] = []
    with store.vector_blocks(rows=rows) as blocks:
        for block in blocks:
            ids += block.ids
            payloads += block.payloads
            parts.append(np.asarray(block.vectors))
    return StoredVectors(ids, np.concatenate(parts), payloads)


def _overwrite_row(path: Path, row: int) -> None:
    """Change a row past the listed ones of the store's vectors file in place."""
    file = Path(f"{path}{SUFFIXES[preferred_format()]}")
    first_row = read_vector_info(file, preferred_format(), 0).offset
    with file.open("r+b") as fh:
        fh.seek(first_row + 4 * DIM * row)
        fh.write(np.full(DIM, 9.0, dtype="<f4").tobytes())


def _undecodable(*args: Any) -> NoReturn:
    raise AssertionError("the vectors were decoded from the journal")


def test_blocks_after_a_large_batch_come_from_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "graph.json"
    vectors = unit_vectors(BATCH, DIM, seed=1)
    with _with_batch(path, vectors) as store:
        expected = store.load_vectors()
        monkeypatch.setattr(JournalFile, "read_vectors", _undecodable)
        found = _blocks(store)
    assert found.ids == [f"p{n}" for n in range(BATCH)]
    np.testing.assert_array_equal(found.vectors, vectors)
    assert found.payloads == expected.payloads


def test_blocks_of_batches_after_a_compaction_come_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listed rows, then two batches' rows written after them."""
    path = tmp_path / "graph.json"
    parts = [unit_vectors(BATCH, DIM, seed=seed) for seed in (1, 2, 3)]
    with _store(path) as store:
        store.add(interactions(BATCH), parts[0])
        store.compact()
        store.add(interactions(BATCH, start=BATCH), parts[1])
        store.add(interactions(BATCH, start=2 * BATCH), parts[2])
        monkeypatch.setattr(JournalFile, "read_vectors", _undecodable)
        found = _blocks(store, rows=3000)
    assert found.ids == [f"p{n}" for n in range(3 * BATCH)]
    np.testing.assert_array_equal(found.vectors, np.concatenate(parts))


def test_a_small_write_after_the_batch_reads_from_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    batch, few = unit_vectors(BATCH, DIM, seed=1), unit_vectors(3, DIM, seed=2)
    with _store(path) as store:
        store.add(interactions(BATCH), batch)
        store.add(interactions(3, start=BATCH), few)
        found = _blocks(store)
    np.testing.assert_array_equal(found.vectors, np.concatenate([batch, few]))


def test_rows_changed_on_disk_are_not_handed_over(tmp_path: Path) -> None:
    """The batch's rows no longer read back as written (their CRC-32): the journal's vectors,
    which are the durable record, are handed over instead."""
    path = tmp_path / "graph.json"
    vectors = unit_vectors(BATCH, DIM, seed=1)
    with _with_batch(path, vectors) as store:
        _overwrite_row(path, 7)
        found = _blocks(store)
    np.testing.assert_array_equal(found.vectors, vectors)


def test_rows_changed_after_a_read_are_not_listed(tmp_path: Path) -> None:
    """The rows matched their CRC-32 when the index was built; changed on disk since (by hand:
    every writer appends to the journal first), the compaction reads them again and writes the
    journal's vectors instead."""
    path = tmp_path / "graph.json"
    vectors = unit_vectors(BATCH, DIM, seed=1)
    with _with_batch(path, vectors) as store:
        _blocks(store)
        time.sleep(0.05)  # a later modification time than the batch's
        _overwrite_row(path, 7)
        store.compact()
    with JsonStore.open(str(path), create=False) as store:
        np.testing.assert_array_equal(store.load_vectors().vectors, vectors)


def test_a_flush_that_fails_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "graph.json"
    vectors = unit_vectors(BATCH, DIM, seed=1)
    with _with_batch(path, vectors) as store:
        real_fsync = os.fsync
        journal = os.stat(f"{path}.journal")

        def failing(fd: int) -> None:
            if os.fstat(fd).st_ino != journal.st_ino and os.fstat(fd).st_size > 1000:
                raise OSError(5, "Input/output error")
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", failing)
        with pytest.raises(StoreError, match="cannot write it"):
            store.compact()
        monkeypatch.setattr(os, "fsync", real_fsync)
        assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]
        store.compact()
    with JsonStore.open(str(path), create=False) as store:
        stored = store.load_vectors()
    assert stored.ids == [f"p{n}" for n in range(BATCH)]
    np.testing.assert_array_equal(stored.vectors, vectors)
