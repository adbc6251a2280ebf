"""The JSON store's files: layout, formats, compaction, recovery, corruption and locking."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.errors import (
    ConfigurationError,
    CorruptStoreError,
    StoreLockedError,
)
from raeburnmemory.core.graph import node_link_data
from raeburnmemory.core.json_store import JsonStore, _vector_file
from raeburnmemory.core.json_store._snapshot import VERSION
from raeburnmemory.core.json_store._vector_file import (
    SUFFIXES,
    VectorFileWriter,
    preferred_format,
    read_vector_file,
    read_vector_info,
)
from raeburnmemory.core.model import EncoderInfo, Link
from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors

DIM = 16
INFO = EncoderInfo("test-encoder", DIM)
HAS_FAISS = preferred_format() == "faiss"


@pytest.fixture(autouse=True)
def no_compaction_on_close(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep journals as written, so tests see their lines (one test checks the real rule)."""
    if "compacts" not in request.node.name:
        monkeypatch.setattr(JsonStore, "_journal_large", lambda self: False)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "graph.json"


def _open(path: Path, **options: Any) -> JsonStore:
    return JsonStore.open(str(path), options=options)


def _filled(path: Path, count: int = 6, **options: Any) -> JsonStore:
    store = _open(path, **options)
    store.set_encoder_info(INFO)
    store.add(interactions(count), unit_vectors(count, DIM))
    return store


def _compacted(path: Path, count: int) -> None:
    """A store of ``count`` interactions at ``path``, compacted and closed."""
    with _filled(path, count) as store:
        store.compact()


def _snapshot_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir()) if p.is_file()}


def _assert_refused_untouched(path: Path, named: Path, match: str | None = None) -> None:
    """Opening the store at ``path`` raises ``CorruptStoreError`` naming ``named`` (and matching
    ``match``), and no file of the store changes."""
    before = _snapshot_files(path)
    with pytest.raises(CorruptStoreError, match=match) as info:
        _open(path)
    assert info.value.path == str(named)
    assert _snapshot_files(path) == before


def _journal_records(path: Path) -> list[dict[str, Any]]:
    text = Path(f"{path}.journal").read_text()
    return [json.loads(line) for line in text.splitlines()]


# -- layout and formats ----------------------------------------------------------------------------


def test_files_beside_the_snapshot(path: Path) -> None:
    with _filled(path) as store:
        store.link(Link("p0", "p1"))
        names = {p.name for p in path.parent.iterdir()}
        assert {
            "graph.json",
            "graph.json.journal",
            "graph.json.map.json",
            "graph.json.lock",
        } <= names
        records = _journal_records(path)
        assert records[0] == {"op": "journal", "generation": 1}
        assert [r["op"] for r in records[1:]] == ["encoder", "add", "link"]
        assert records[2]["dim"] == DIM
        assert [item["prompt_id"] for item in records[2]["items"]] == [f"p{i}" for i in range(6)]
        store.compact()
    suffix = ".faiss" if HAS_FAISS else ".vectors.npy"
    assert Path(f"{path}{suffix}").exists()
    assert _journal_records(path) == [{"op": "journal", "generation": 2}]
    mapping = json.loads(Path(f"{path}.map.json").read_text())
    assert mapping["generation"] == 2
    assert sorted(mapping["ids"]) == [f"p{i}" for i in range(6)]


def test_snapshot_is_node_link_json(path: Path) -> None:
    with _filled(path, 4) as store:
        store.link(Link("p0", "p3", "cites"))
        store.compact()
    data = json.loads(path.read_text())
    attrs = data["graph"]
    assert attrs["format"] == "raeburnmemory"
    assert attrs["version"] == VERSION
    assert attrs["generation"] == 2
    assert attrs["encoder"] == {"name": INFO.name, "dim": DIM}
    kinds = sorted({node["kind"] for node in data["nodes"]})
    assert kinds == ["agent", "prompt", "response", "session"]
    relations = {edge["relation"] for edge in data["edges"]}
    assert {"responded_with", "generated_by", "belongs_to", "cites"} <= relations
    nx = pytest.importorskip("networkx")
    graph = nx.node_link_graph(data, edges="edges")
    assert graph.has_edge("prompt:p0", "response:r-p0")


def test_snapshot_matches_the_graph_module(path: Path) -> None:
    t0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
    items = [
        interaction(0, session_id="s", timestamp=t0 + timedelta(minutes=3)),
        interaction(1, session_id="s", timestamp=t0, agent_id="a", agent_name="Ann"),
        interaction(2, session_id="t", timestamp=t0, prompt_attrs={"lang": "en"}),
        interaction(3, session_id="s", timestamp=t0, agent_id="a", agent_name="Anna"),
        interaction(4, session_id="t", timestamp=t0, response_attrs={"tokens": 3}),
    ]
    links = [Link("p0", "p2", "cites"), Link("p4", "p1")]
    with _open(path) as store:
        store.add(items, None)
        for link in links:
            store.link(link)
        store.compact()
    data = json.loads(path.read_text())
    expected = node_link_data(items, links)
    assert data["nodes"] == expected["nodes"]
    assert data["edges"] == expected["edges"]


def test_snapshot_in_another_layout_still_opens(path: Path) -> None:
    tricky = interaction(1, prompt_attrs={"x": [1], "edges": [2]})
    with _open(path) as store:
        store.set_encoder_info(INFO)
        store.add([interaction(0), tricky], unit_vectors(2, DIM))
        store.link(Link("p0", "p1"))
        store.compact()
    with _open(path) as store:
        assert store.get("p1") == tricky
    data = json.loads(path.read_text())
    data = {"edges": data["edges"], **{k: v for k, v in data.items() if k != "edges"}}
    text = json.dumps(data, indent=1).encode()
    path.write_bytes(text)
    map_path = Path(f"{path}.map.json")
    mapping = json.loads(map_path.read_text())
    mapping["graph_crc32"], mapping["graph_size"] = zlib.crc32(text), len(text)
    map_path.write_text(json.dumps(mapping))
    with _open(path) as store:  # its first bytes are not this layout's: parsed, not indexed
        assert store.get("p1") == tricky
    mapping["index"] = None  # a map without an index: the snapshot is parsed whole
    map_path.write_text(json.dumps(mapping))
    with _open(path) as store:
        assert store.count() == 2
        assert store.get("p1") == tricky
        assert store.links() == [Link("p0", "p1")]
    mapping["graph_crc32"] = mapping["graph_size"] = None
    map_path.write_text(json.dumps(mapping))
    with _open(path) as store:
        assert store.get("p1") == tricky


def test_adds_never_rewrite_the_snapshot(path: Path) -> None:
    with _filled(path, 2) as store:
        store.compact()
        before = path.stat()
        for index in range(10, 30):
            store.add([interaction(index)], unit_vectors(1, DIM, seed=index))
        after = path.stat()
        assert (before.st_ino, before.st_mtime_ns, before.st_size) == (
            after.st_ino,
            after.st_mtime_ns,
            after.st_size,
        )


@pytest.mark.skipif(not HAS_FAISS, reason="needs faiss to compare with")
def test_faiss_file_is_byte_for_byte_what_faiss_writes(tmp_path: Path) -> None:
    import faiss

    vectors = unit_vectors(5, DIM)
    reference = tmp_path / "reference.faiss"
    index = faiss.IndexFlatIP(DIM)
    index.add(vectors)
    faiss.write_index(index, str(reference))
    ours = tmp_path / "ours.faiss"
    writer = VectorFileWriter(ours, "faiss", DIM)
    writer.append(vectors[:2])
    writer.append(vectors[2:])
    writer.finish()
    assert ours.read_bytes() == reference.read_bytes()
    empty_ref, empty_ours = tmp_path / "e1.faiss", tmp_path / "e2.faiss"
    faiss.write_index(faiss.IndexFlatIP(DIM), str(empty_ref))
    writer = VectorFileWriter(empty_ours, "faiss", DIM)
    writer.finish()
    assert empty_ours.read_bytes() == empty_ref.read_bytes()
    read_back = faiss.read_index(str(ours))
    np.testing.assert_array_equal(read_back.reconstruct_n(0, 5), vectors)
    np.testing.assert_array_equal(read_vector_file(read_vector_info(reference, "faiss")), vectors)


def test_npy_file_is_a_numpy_array(tmp_path: Path) -> None:
    vectors = unit_vectors(7, DIM)
    target = tmp_path / "v.npy"
    writer = VectorFileWriter(target, "npy", DIM)
    writer.append(vectors[:3])
    writer.append(vectors[3:])
    writer.set_row(1, vectors[6])
    writer.finish()
    expected = vectors.copy()
    expected[1] = vectors[6]
    np.testing.assert_array_equal(np.load(target), expected)
    plain = tmp_path / "plain.npy"
    np.save(plain, vectors)
    np.testing.assert_array_equal(read_vector_file(read_vector_info(plain, "npy")), vectors)


def test_npy_store_opens_and_converts(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_vector_file, "preferred_format", lambda: "npy")
    vectors = unit_vectors(4, DIM)  # what _compacted writes
    _compacted(path, 4)
    assert Path(f"{path}.vectors.npy").exists()
    np.testing.assert_array_equal(np.load(f"{path}.vectors.npy"), vectors)
    monkeypatch.setattr(_vector_file, "preferred_format", lambda: "faiss")
    with _open(path) as store:
        np.testing.assert_array_equal(store.load_vectors().vectors, vectors)
        store.add([interaction(9)], unit_vectors(1, DIM, seed=5))
        store.compact()
    assert Path(f"{path}.faiss").exists()
    assert not Path(f"{path}.vectors.npy").exists()
    with _open(path) as store:
        assert len(store.load_vectors()) == 5


_HIDE_FAISS = """
import sys
import threading
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "faiss":
            raise ImportError(name)
sys.meta_path.insert(0, _Hide())
from raeburnmemory.core.graph import node_link_data
from raeburnmemory.core.json_store import JsonStore
store = JsonStore.open(sys.argv[1], create=False)
stored = store.load_vectors()
print(store.count(), len(stored), float(stored.vectors.sum()))
store.close()
"""


@pytest.mark.skipif(not HAS_FAISS, reason="needs faiss to write the .faiss file")
def test_faiss_store_opens_without_faiss(path: Path) -> None:
    vectors = unit_vectors(5, DIM)  # what _compacted writes
    _compacted(path, 5)
    assert Path(f"{path}.faiss").exists()
    done = subprocess.run(
        [sys.executable, "-c", _HIDE_FAISS, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    count, rows, total = done.stdout.split()
    assert (int(count), int(rows)) == (5, 5)
    assert float(total) == pytest.approx(float(vectors.sum()), rel=1e-5)


def test_default_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "env" / "mem.json"
    monkeypatch.setenv("RAEBURN_DB_PATH", str(target))
    with JsonStore.open(None) as store:
        assert store.location == str(target)
    assert target.exists()


def test_bad_options(path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown"):
        JsonStore.open(str(path), options={"speed": 1})
    with pytest.raises(ConfigurationError, match="fsync"):
        JsonStore.open(str(path), options={"fsync": "yes"})
    with pytest.raises(ConfigurationError, match="lock_timeout"):
        JsonStore.open(str(path), options={"lock_timeout": -1})
    with pytest.raises(ConfigurationError, match="directory"):
        JsonStore.open(str(path.parent.parent))


def test_fsync_option_forces_every_write_to_disk(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    with _filled(path, 1, fsync=True) as store:
        monkeypatch.setattr(os, "fsync", counting)
        store.add([interaction(5)], unit_vectors(1, DIM))
        assert len(calls) == 1
    with _filled(path, 1) as store:
        calls.clear()
        store.add([interaction(6)], unit_vectors(1, DIM))
        assert calls == []


# -- torn lines and corruption ---------------------------------------------------------------------


def test_torn_last_line_is_ignored_then_cut_off(path: Path) -> None:
    _filled(path, 3).close()
    journal = Path(f"{path}.journal")
    with _open(path) as store:
        store.add([interaction(3)], unit_vectors(1, DIM))
        good = journal.read_bytes()
    torn = json.dumps({"op": "add", "items": [interaction(4).to_dict()]})[:57]
    journal.write_bytes(good + torn.encode())
    with _open(path) as reader:
        assert reader.count() == 4
        assert reader.get("p4") is None
        assert journal.read_bytes() == good + torn.encode()  # reading cut nothing
        reader.add([interaction(5)], unit_vectors(1, DIM, seed=2))
    assert journal.read_bytes().startswith(good)
    for line in journal.read_text().splitlines():
        json.loads(line)
    with _open(path) as store:
        assert store.count() == 5
        assert store.get("p5") == interaction(5)


def test_bad_line_in_the_middle_is_corruption(path: Path) -> None:
    with _filled(path, 2) as store:
        store.add([interaction(2)], unit_vectors(1, DIM))
    journal = Path(f"{path}.journal")
    lines = journal.read_bytes().split(b"\n")
    lines[2] = lines[2][:40] + b"#garbage#" + lines[2][40:]
    journal.write_bytes(b"\n".join(lines))
    _assert_refused_untouched(path, journal, r"graph\.json\.journal.*line 3")


def test_unknown_record_is_corruption(path: Path) -> None:
    _filled(path, 1).close()
    journal = Path(f"{path}.journal")
    data = journal.read_bytes()
    journal.write_bytes(data + b'{"op": "teleport"}\n')
    with pytest.raises(CorruptStoreError, match="teleport"):
        _open(path)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b"not json at all", id="garbage"),
        pytest.param(lambda b: b[:100] + b"\x00\x01" + b[102:], id="flipped-bytes"),
    ],
)
def test_bad_snapshot_is_corruption(path: Path, damage: Any) -> None:
    _compacted(path, 5)
    path.write_bytes(damage(path.read_bytes()))
    _assert_refused_untouched(path, path, r"graph\.json\b")


def test_bad_snapshot_edges_are_caught_too(path: Path) -> None:
    _compacted(path, 5)
    data = path.read_bytes()
    at = data.rindex(b'"relation"')
    path.write_bytes(data[:at] + b'"relatiom"' + data[at + 10 :])
    with pytest.raises(CorruptStoreError, match="checksum"):
        _open(path)


def test_corruption_found_by_an_open_store_keeps_failing(path: Path) -> None:
    store = _filled(path, 3)
    other = _filled(path, 0)
    other.add([interaction(5)], unit_vectors(1, DIM))
    other.compact()
    map_path = Path(f"{path}.map.json")
    map_path.write_bytes(map_path.read_bytes()[:-10])
    with pytest.raises(CorruptStoreError):
        store.count()
    with pytest.raises(CorruptStoreError):
        store.add([interaction(6)], unit_vectors(1, DIM))
    with pytest.raises(CorruptStoreError):
        store.get("p0")
    other.close()
    store.close()


def test_vectors_that_do_not_match_the_map(path: Path) -> None:
    _compacted(path, 5)
    vectors = next(p for p in path.parent.iterdir() if p.name.endswith((".faiss", ".npy")))
    vectors.write_bytes(vectors.read_bytes()[: -4 * DIM])
    _assert_refused_untouched(path, vectors)


@pytest.mark.parametrize(
    ("fmt", "at"),
    [
        pytest.param("faiss", -3, id="faiss-row"),
        pytest.param("faiss", 20, id="faiss-header"),  # a field no check of the header reads
        pytest.param("npy", -3, id="npy-row"),
    ],
)
def test_flipped_bytes_in_the_vectors_file_are_corruption(
    path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, at: int
) -> None:
    monkeypatch.setattr(_vector_file, "preferred_format", lambda: fmt)
    _compacted(path, 5)
    vectors = Path(f"{path}{SUFFIXES[fmt]}")
    mapping = json.loads(Path(f"{path}.map.json").read_text())
    offset = read_vector_info(vectors, fmt).offset
    assert mapping["vectors_rows_crc32"] == zlib.crc32(vectors.read_bytes()[offset:])
    data = bytearray(vectors.read_bytes())
    data[at] ^= 0x10
    vectors.write_bytes(bytes(data))
    before = _snapshot_files(path)
    if at >= 0:  # the header: checked when the store opens
        with pytest.raises(CorruptStoreError, match="header") as info:
            _open(path)
    else:
        with _open(path) as store, pytest.raises(CorruptStoreError, match="checksum") as info:
            store.load_vectors()
    assert info.value.path == str(vectors)
    assert _snapshot_files(path) == before


def test_a_map_written_without_the_vectors_checksum_still_opens(path: Path) -> None:
    with _filled(path, 5) as store:
        store.compact()
        expected = store.load_vectors()
    map_path = Path(f"{path}.map.json")
    mapping = json.loads(map_path.read_text())
    del mapping["vectors_rows_crc32"]
    map_path.write_text(json.dumps(mapping))
    with _open(path) as store:
        stored = store.load_vectors()
        assert stored.ids == expected.ids
        np.testing.assert_array_equal(stored.vectors, expected.vectors)
        store.add([interaction(9)], unit_vectors(1, DIM))
        store.compact()  # writes the checksum from now on
    assert isinstance(json.loads(map_path.read_text())["vectors_rows_crc32"], int)


def test_map_listing_unknown_prompts(path: Path) -> None:
    _compacted(path, 3)
    map_path = Path(f"{path}.map.json")
    mapping = json.loads(map_path.read_text())
    mapping["ids"][0] = "ghost"
    map_path.write_text(json.dumps(mapping))
    with pytest.raises(CorruptStoreError, match="ghost") as info:
        _open(path)
    assert info.value.path == str(map_path)


def test_read_only_use_changes_no_file(path: Path) -> None:
    with _filled(path, 4) as store:
        store.link(Link("p0", "p1"))
    before = _snapshot_files(path)
    stamps = {p.name: p.stat().st_mtime_ns for p in path.parent.iterdir()}
    with JsonStore.open(str(path), create=False) as store:
        assert store.count() == 4
        store.load_vectors()
        store.refresh()
        list(store.iter_interactions())
    assert _snapshot_files(path) == before
    assert {p.name: p.stat().st_mtime_ns for p in path.parent.iterdir()} == stamps


# -- compaction and recovery -----------------------------------------------------------------------


def test_close_compacts_a_large_journal(path: Path) -> None:
    with _filled(path, 3):
        pass
    assert _journal_records(path) == [{"op": "journal", "generation": 2}]
    with _open(path) as store:
        assert store.count() == 3
    assert _journal_records(path) == [{"op": "journal", "generation": 2}]  # read only: no rewrite


@pytest.mark.parametrize("renamed", [0, 1, 2, 3])
def test_crash_between_renames_is_finished_on_open(
    path: Path, renamed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _filled(path, 5)
    store.link(Link("p0", "p4"))
    store.delete(["p2"])
    vectors = store.load_vectors()
    done: list[str] = []
    real_replace = os.replace

    def crashing(src: Any, dst: Any) -> None:
        if len(done) == renamed:
            raise KeyboardInterrupt("power cut")
        done.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crashing)
    with pytest.raises(KeyboardInterrupt):
        store.compact()
    monkeypatch.setattr(os, "replace", real_replace)
    with _open(path) as reopened:
        assert reopened.count() == 4
        assert reopened.get("p2") is None
        assert reopened.links() == [Link("p0", "p4")]
        again = reopened.load_vectors()
        assert sorted(again.ids) == sorted(vectors.ids)
        assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
        reopened.add([interaction(9)], unit_vectors(1, DIM))
    with _open(path) as final:
        assert final.count() == 5


def test_unfinished_temporary_files_are_discarded(path: Path) -> None:
    with _filled(path, 3) as store:
        store.add([interaction(3)], unit_vectors(1, DIM))
        expected = store.count()
        Path(f"{path}.tmp").write_text('{"directed": tr')
        Path(f"{path}.map.json.tmp").write_text("{}")
    with _open(path) as reopened:
        assert reopened.count() == expected
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_stale_journal_is_ignored(path: Path) -> None:
    with _filled(path, 3) as store:
        store.compact()
        generation = _journal_records(path)[0]["generation"]
    stale = {"op": "journal", "generation": generation - 1}
    extra = {"op": "delete", "ids": ["p0"]}
    Path(f"{path}.journal").write_text(json.dumps(stale) + "\n" + json.dumps(extra) + "\n")
    with _open(path) as store:
        assert store.count() == 3
        store.add([interaction(7)], unit_vectors(1, DIM))
    with _open(path) as store:
        assert store.count() == 4


def test_other_process_compaction_keeps_refresh_incremental(path: Path) -> None:
    writer = _filled(path, 3)
    reader = _open(path)
    reader.load_vectors()
    writer.add([interaction(3)], unit_vectors(1, DIM, seed=3))
    writer.compact()
    writer.add([interaction(4)], unit_vectors(1, DIM, seed=4))
    changes = reader.refresh()
    assert not changes.reset
    assert changes.added.ids == ["p3", "p4"]
    assert reader.count() == 5
    assert sorted(reader.load_vectors().ids) == [f"p{i}" for i in range(5)]
    writer.replace_vectors([(["p0"], unit_vectors(1, 8))], EncoderInfo("other", 8))
    assert reader.refresh().reset
    assert reader.encoder_info() == EncoderInfo("other", 8)
    assert reader.load_vectors().ids == ["p0"]
    writer.close()
    reader.close()


def _compacted_while_a_reader_waits(
    path: Path, count: int
) -> tuple[JsonStore, JsonStore, np.ndarray]:
    """A writer that added ``count`` interactions and compacted since a reader last looked."""
    writer = _filled(path, 3)
    reader = _open(path)
    reader.load_vectors()
    vectors = unit_vectors(count, DIM, seed=7)
    writer.add(interactions(count, start=3), vectors)
    writer.compact()
    return writer, reader, vectors


def test_a_reader_far_behind_another_compaction_gets_each_change(path: Path) -> None:
    behind = 20_001  # more additions than a reader could once hold across a compaction
    writer, reader, vectors = _compacted_while_a_reader_waits(path, behind)
    writer.delete(["p0"])
    writer.add([interaction(behind + 3)], unit_vectors(1, DIM, seed=8))
    changes = reader.refresh()
    assert not changes.reset
    assert changes.removed == ["p0"]
    assert changes.added.ids == [f"p{i}" for i in range(3, behind + 4)]
    np.testing.assert_array_equal(changes.added.vectors[:behind], vectors)
    np.testing.assert_array_equal(changes.added.vectors[behind], unit_vectors(1, DIM, seed=8)[0])
    assert reader.refresh().added.ids == []
    writer.close()
    reader.close()


def test_a_damaged_vectors_file_is_reported_by_refresh(path: Path) -> None:
    writer, reader, _ = _compacted_while_a_reader_waits(path, 1)
    vectors = next(p for p in path.parent.iterdir() if p.name.endswith((".faiss", ".npy")))
    with vectors.open("r+b") as fh:  # the same file, changed in place
        fh.seek(-3, os.SEEK_END)
        last = fh.read(1)
        fh.seek(-3, os.SEEK_END)
        fh.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(CorruptStoreError, match="checksum"):
        reader.refresh()
    writer.close()
    reader.close()


def test_lock_held_too_long(path: Path) -> None:
    _filled(path, 1).close()
    lock = Path(f"{path}.lock")
    store = _open(path, lock_timeout=0.2)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(StoreLockedError) as info:
            store.add([interaction(1)], unit_vectors(1, DIM))
        assert info.value.path == str(lock)
        assert "graph.json.lock" in str(info.value)
    finally:
        os.close(fd)
    store.add([interaction(1)], unit_vectors(1, DIM))
    store.close()
    with _open(path) as store:
        assert store.count() == 2


def test_agent_names_survive_compaction(path: Path) -> None:
    with _open(path) as store:
        store.add([interaction(0, agent_id="a", agent_name="Old", agent_attrs={"v": 1})], None)
        store.add([interaction(1, agent_id="a", agent_name="New")], None)
        store.compact()
    with _open(path) as store:
        first, second = store.get("p0"), store.get("p1")
        assert first is not None
        assert second is not None
        assert (first.agent_name, dict(first.agent_attrs)) == ("Old", {"v": 1})
        assert (second.agent_name, dict(second.agent_attrs)) == ("New", {})
        assert [(a.id, a.name) for a in store.agents()] == [("a", "New")]


def test_threads_sharing_one_store_lose_nothing(path: Path) -> None:
    store = _filled(path, 0)

    def work(thread: int) -> None:
        for index in range(40):
            item = interaction(index, prefix=f"t{thread}-")
            store.add([item], unit_vectors(1, DIM, seed=index))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 160
    store.close()
    with _open(path) as reopened:
        assert reopened.count() == 160
        assert len(reopened.load_vectors()) == 160


def test_refresh_after_delete_and_re_add_elsewhere(path: Path) -> None:
    writer = _filled(path, 2)
    reader = _open(path)
    reader.load_vectors()
    writer.delete(["p1"])
    fresh = unit_vectors(1, DIM, seed=42)
    writer.add([interaction(1, prompt_text="asked again")], fresh)
    changes = reader.refresh()
    assert changes.removed == ["p1"]
    assert changes.added.ids == ["p1"]
    np.testing.assert_allclose(changes.added.vectors[0], fresh[0], rtol=1e-6)
    got = reader.get("p1")
    assert got is not None
    assert got.prompt_text == "asked again"
    writer.close()
    reader.close()


def test_journal_lines_across_read_chunks(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from raeburnmemory.core.json_store import _journal

    with _filled(path, 3) as store:
        for index in range(3, 9):
            store.add([interaction(index)], unit_vectors(1, DIM, seed=index))
        store.link(Link("p0", "p8"))
    monkeypatch.setattr(_journal, "_CHUNK", 7)  # every line spans many reads
    with _open(path) as store:
        assert store.count() == 9
        assert store.links() == [Link("p0", "p8")]
        assert len(store.load_vectors()) == 9


def test_load_vectors_after_deletes_from_the_snapshot(path: Path) -> None:
    vectors = unit_vectors(6, DIM)
    extra = unit_vectors(1, DIM, seed=9)
    with _filled(path, 0) as store:
        store.add(interactions(6), vectors)
        store.compact()
        store.delete(["p1", "p3"])
        store.add([interaction(9)], extra)
        stored = store.load_vectors()
    assert stored.ids == ["p0", "p2", "p4", "p5", "p9"]
    expected = np.vstack([vectors[[0, 2, 4, 5]], extra])
    np.testing.assert_array_equal(stored.vectors, expected)
    with _open(path) as store:  # and the same from a fresh process's view
        again = store.load_vectors()
        assert again.ids == stored.ids
        np.testing.assert_array_equal(again.vectors, expected)
