"""A JSON store compaction costs what changed: vectors appended, unchanged nodes copied."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

from raeburnmemory.core.json_store import JsonStore, _write_checks
from raeburnmemory.core.json_store._snapshot import SnapshotFile
from raeburnmemory.core.json_store._vector_file import SUFFIXES, preferred_format, read_vector_info
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing.data import interactions, unit_vectors

DIM = 8
INFO = EncoderInfo("test-encoder", DIM)


def _store(path: Path) -> JsonStore:
    store = JsonStore.open(str(path))
    store.set_encoder_info(INFO)
    return store


def _vectors_file(path: Path) -> Path:
    return Path(f"{path}{SUFFIXES[preferred_format()]}")


def test_new_vectors_are_appended_to_the_vectors_file_in_place(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    with _store(path) as store:
        store.add(interactions(30), unit_vectors(30, DIM, seed=1))
        store.compact()
        vectors = _vectors_file(path)
        before = vectors.read_bytes()
        inode = os.stat(vectors).st_ino
        header = read_vector_info(vectors, preferred_format()).offset
        store.add(interactions(5, start=100), unit_vectors(5, DIM, seed=2))
        store.compact()
        assert os.stat(vectors).st_ino == inode  # the same file, grown
        after = vectors.read_bytes()
        assert after[header : len(before)] == before[header:]  # the old rows are untouched
        assert read_vector_info(vectors, preferred_format()).rows == 35
        store.delete(["p0"])
        store.compact()  # a row is no longer live: a new file without it
        assert os.stat(vectors).st_ino != inode
        assert read_vector_info(vectors, preferred_format()).rows == 34
    with JsonStore.open(str(path), create=False) as store:
        stored = store.load_vectors()
        found = dict(zip(stored.ids, stored.vectors, strict=True))
        assert len(found) == 34
        np.testing.assert_array_equal(found["p100"], unit_vectors(5, DIM, seed=2)[0])
        np.testing.assert_array_equal(found["p29"], unit_vectors(30, DIM, seed=1)[29])


def test_a_compaction_copies_the_nodes_it_did_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot's nodes are not read again, and the file is the one a single compaction of
    the same writes gives."""
    path = tmp_path / "a" / "graph.json"
    with _store(path) as store:
        store.add(interactions(40), unit_vectors(40, DIM))
        store.compact()
    with JsonStore.open(str(path), create=False) as store:
        store.add(interactions(5, start=100), unit_vectors(5, DIM, seed=3))

        def unread(*args: Any) -> NoReturn:
            raise AssertionError("a compaction read nodes it did not change")

        with monkeypatch.context() as patch:
            patch.setattr(SnapshotFile, "nodes", unread)
            patch.setattr(SnapshotFile, "node_range", unread)
            store.compact()
    once = tmp_path / "b" / "graph.json"
    with _store(once) as store:
        store.add(interactions(40), unit_vectors(40, DIM))
        store.add(interactions(5, start=100), unit_vectors(5, DIM, seed=3))
        store.compact()
    copied = path.read_bytes().replace(b'"generation": 3', b'"generation": 2', 1)
    assert copied == once.read_bytes()
    with JsonStore.open(str(path), create=False) as store:
        assert store.get("p7") == interactions(40)[7]
        assert store.get("p104") == interactions(5, start=100)[4]


def test_a_large_batch_is_written_line_by_line_and_still_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each journal line is appended as soon as it is made (a batch's lines are never all in
    memory); when a later line cannot be made, the ones before it are taken back."""
    path = tmp_path / "graph.json"
    journal = Path(f"{path}.journal")
    store = _store(path)
    store.add(interactions(3), unit_vectors(3, DIM))
    size = journal.stat().st_size
    made = _write_checks.add_line
    sizes_seen: list[int] = []

    def fail_second(*args: Any) -> Any:
        sizes_seen.append(journal.stat().st_size)
        if len(sizes_seen) == 2:
            raise RuntimeError("cannot make this line")
        return made(*args)

    monkeypatch.setattr(_write_checks, "add_line", fail_second)
    batch = 2 * _write_checks.JOURNAL_LINE_ITEMS
    with pytest.raises(RuntimeError, match="cannot make this line"):
        store.add(interactions(batch, start=100), unit_vectors(batch, DIM))
    assert sizes_seen[1] > size  # the first line was already in the journal
    assert journal.stat().st_size == size
    assert store.count() == 3
    monkeypatch.undo()
    store.add(interactions(2, start=9000), unit_vectors(2, DIM))
    store.close()
    with JsonStore.open(str(path), create=False) as again:
        assert {item.prompt_id for item in again.iter_interactions()} == {
            "p0",
            "p1",
            "p2",
            "p9000",
            "p9001",
        }
