"""A JSON store compaction costs what changed: vectors appended, unchanged nodes copied, and
right after a large batch little more than the batch did."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

from raeburnmemory.core.graph import iter_node_link_json
from raeburnmemory.core.json_store import JsonStore, _write_checks
from raeburnmemory.core.json_store._journal import JournalFile
from raeburnmemory.core.json_store._map_file import read_map
from raeburnmemory.core.json_store._snapshot import SnapshotFile
from raeburnmemory.core.json_store._vector_file import SUFFIXES, preferred_format, read_vector_info
from raeburnmemory.core.json_store._vector_tail import TAIL_ROWS
from raeburnmemory.core.model import EncoderInfo, Interaction, Link
from raeburnmemory.core.testing.data import interactions, unit_vectors

DIM = 8
INFO = EncoderInfo("test-encoder", DIM)
T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
BATCH = TAIL_ROWS + 5


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


def _item(number: int, **fields: Any) -> Interaction:
    values: dict[str, Any] = {
        "prompt_id": f"p{number}",
        "prompt_text": f"question {number}",
        "response_id": f"r{number}",
        "response_text": f"answer {number}",
        "agent_id": "a",
        "session_id": "s",
        "timestamp": T0 + timedelta(seconds=number),
    }
    values.update(fields)
    return Interaction(**values)


def test_the_snapshot_is_byte_for_byte_the_graph_modules_json(tmp_path: Path) -> None:
    """Nodes and edges laid out from their fields are the text ``json.dumps`` gives, for
    escapes, non-ASCII text, metadata, expiry, a missing response and extra attributes."""
    items = [
        _item(0, prompt_text='é "quoted" \\ \n\t\x01 😀 \u2028', metadata={"k": [1, 2.5, None]}),
        _item(1, response_id=None, response_text=None, session_id='t"ü'),
        _item(2, timestamp=T0 - timedelta(days=1), expires_at=T0 + timedelta(days=9)),
        _item(3, prompt_attrs={"lang": "en"}),
        _item(4, response_attrs={"tokens": 3}, agent_id="b\u00e9", agent_name="Bé"),
        _item(5, prompt_id='p"5\\', response_id="r\u00e95", metadata={"ü": {"x": "y"}}),
    ]
    links = [Link("p0", 'p"5\\', 'ci"tes'), Link("p3", "p1")]
    path = tmp_path / "graph.json"
    with JsonStore.open(str(path)) as store:
        store.add(items[:3], None)
        store.compact()  # the next snapshot copies these nodes and lays out the others
        store.add(items[3:], None)
        for link in links:
            store.link(link)
        store.compact()
    data = path.read_bytes()
    attrs = json.loads(data)["graph"]
    assert data == "".join(iter_node_link_json(items, links, graph_attrs=attrs)).encode()


def _stored_vectors(path: Path) -> dict[str, np.ndarray]:
    with JsonStore.open(str(path), create=False) as store:
        stored = store.load_vectors()
    return dict(zip(stored.ids, stored.vectors, strict=True))


def _unread(*args: Any) -> NoReturn:
    raise AssertionError("the compaction decoded vectors from the journal")


def test_a_large_batch_writes_its_vectors_and_the_compaction_lists_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "graph.json"
    first, second = unit_vectors(BATCH, DIM, seed=1), unit_vectors(BATCH, DIM, seed=2)
    with _store(path) as store:
        store.add(interactions(BATCH), first)
        vectors = _vectors_file(path)
        # past the rows the map lists (none yet): written with the batch, ignored by readers
        assert read_map(Path(f"{path}.map.json")).fmt is None
        assert read_vector_info(vectors, preferred_format(), 0).rows == 0
        assert vectors.stat().st_size >= 4 * DIM * BATCH
        inode = os.stat(vectors).st_ino
        with monkeypatch.context() as patch:
            patch.setattr(JournalFile, "read_vectors", _unread)
            store.compact()
            assert os.stat(vectors).st_ino == inode
            store.add(interactions(BATCH, start=BATCH), second)  # after the listed rows
            store.compact()
        assert os.stat(vectors).st_ino == inode
        store.add(interactions(3, start=3 * BATCH), unit_vectors(3, DIM, seed=3))
        store.compact()  # a few vectors: appended from the journal
        assert read_vector_info(vectors, preferred_format()).rows == 2 * BATCH + 3
    found = _stored_vectors(path)
    assert len(found) == 2 * BATCH + 3
    np.testing.assert_array_equal(found["p0"], first[0])
    np.testing.assert_array_equal(found[f"p{2 * BATCH - 1}"], second[-1])
    np.testing.assert_array_equal(found[f"p{3 * BATCH + 2}"], unit_vectors(3, DIM, seed=3)[2])


def test_rows_another_writer_rewrote_are_not_listed(tmp_path: Path) -> None:
    """Another writer cut the batch's rows and wrote as many of its own in their place: the
    compaction sees the bytes changed and writes the vectors from the journal."""
    path = tmp_path / "graph.json"
    mine = unit_vectors(BATCH, DIM, seed=1)
    with _store(path) as store, JsonStore.open(str(path)) as other:
        store.add(interactions(BATCH), mine)
        other.add(interactions(BATCH, start=10 * BATCH), unit_vectors(BATCH, DIM, seed=9))
        other.delete([f"p{n}" for n in range(10 * BATCH, 11 * BATCH)])
        store.compact()
    found = _stored_vectors(path)
    assert len(found) == BATCH
    for row in (0, BATCH // 2, BATCH - 1):
        np.testing.assert_array_equal(found[f"p{row}"], mine[row])


def test_a_batch_after_a_deletion_leaves_the_compaction_to_rewrite_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "graph.json"
    with _store(path) as store:
        store.add(interactions(BATCH), unit_vectors(BATCH, DIM, seed=1))
        store.compact()
        store.add(interactions(BATCH, start=BATCH), unit_vectors(BATCH, DIM, seed=2))
        store.delete(["p1", f"p{BATCH + 1}"])
        store.compact()
        assert read_vector_info(_vectors_file(path), preferred_format()).rows == 2 * BATCH - 2
    found = _stored_vectors(path)
    assert "p1" not in found
    assert f"p{BATCH + 1}" not in found
    np.testing.assert_array_equal(found[f"p{BATCH + 2}"], unit_vectors(BATCH, DIM, seed=2)[2])


def test_a_large_batch_is_stored_when_the_vectors_file_cannot_take_its_rows(
    tmp_path: Path,
) -> None:
    """Writing the rows to the vectors file is only a shortcut: a damaged header there does not
    fail the batch, which the journal holds; opening the store then reports the damage."""
    path = tmp_path / "graph.json"
    with _store(path) as store:
        store.add(interactions(3), unit_vectors(3, DIM))
        store.compact()
        vectors = _vectors_file(path)
        damaged = bytearray(vectors.read_bytes())
        damaged[5] ^= 0xFF  # in the header (the dimension, or the npy header's text)
        vectors.write_bytes(bytes(damaged))
        written = store.add(interactions(BATCH, start=100), unit_vectors(BATCH, DIM, seed=4))
        assert len(written) == BATCH
        assert store.count() == BATCH + 3
