"""JSON stores written by raeburnmemory 0.1.0 open and work unchanged; newer ones are refused.

The stores under ``fixtures/stores_0_1_0`` were written by ``fixtures/make_stores_0_1_0.py``
with 0.1.0 and are never rewritten: each test works on a copy. ``expected.json`` holds what they
contain (vectors as base64 of little-endian float32), computed from the inputs.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import zlib
from pathlib import Path

import pytest

from raeburnmemory.core import CorruptStoreError, RaeburnMemoryError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.json_store._snapshot import VERSION
from raeburnmemory.core.testing import kept_stores
from raeburnmemory.memory_graph import MemoryGraph

FIXTURES = Path(__file__).parent / "fixtures" / "stores_0_1_0"
EXPECTED = kept_stores.expected_in(FIXTURES)
STATES = ["json-journal", "json-compacted"]


def copy_of(state: str, tmp_path: Path) -> Path:
    """A copy of a fixture store; returns its ``graph.json``."""
    folder = tmp_path / state
    shutil.copytree(FIXTURES / state, folder)
    return folder / "graph.json"


def contents(folder: Path) -> dict[str, bytes]:
    """Every file of a folder with its bytes (the lock file, which opening creates, left out)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "graph.json.lock"
    }


@pytest.mark.parametrize("state", STATES)
def test_the_store_class_reads_every_field_as_written(state: str, tmp_path: Path) -> None:
    store = JsonStore.open(str(copy_of(state, tmp_path)), create=False)
    try:
        kept_stores.assert_holds(store, EXPECTED)
    finally:
        store.close()


@pytest.mark.parametrize("state", STATES)
def test_memory_graph_opens_reads_and_searches(state: str, tmp_path: Path) -> None:
    with MemoryGraph(copy_of(state, tmp_path), create=False) as memory:
        kept_stores.assert_reads_and_searches(memory, EXPECTED)


@pytest.mark.parametrize("state", STATES)
def test_a_new_write_is_kept_beside_the_old_records(state: str, tmp_path: Path) -> None:
    path = copy_of(state, tmp_path)
    with MemoryGraph(path, create=False) as memory:
        kept_stores.write_beside(memory)
    with MemoryGraph(path, create=False) as memory:
        kept_stores.assert_written_beside(memory, EXPECTED)


def test_compacting_the_journal_store_writes_the_snapshot_0_1_0_wrote(tmp_path: Path) -> None:
    expected = (FIXTURES / "json-compacted" / "graph.json").read_bytes()
    if importlib.util.find_spec("faiss") is None:  # the vectors file is .npy without faiss
        expected = expected.replace(b'"vectors": "faiss"', b'"vectors": "npy"')
    expected = expected.replace(b'"version": 1', f'"version": {VERSION}'.encode())
    path = copy_of("json-journal", tmp_path)
    store = JsonStore.open(str(path), create=False)
    try:
        store.compact()
        kept_stores.assert_holds(store, EXPECTED)
    finally:
        store.close()
    assert path.read_bytes() == expected


# -- a store written by a newer version -------------------------------------------------------


def _newer_snapshot(path: Path) -> None:
    """Mark ``graph.json`` as written by format version 3, with the map's checksum to match."""
    data = path.read_bytes()
    written = next(
        f'"version": {v}'.encode() for v in (1, VERSION) if f'"version": {v}'.encode() in data
    )
    assert data.count(written) == 1
    data = data.replace(written, b'"version": 3')
    path.write_bytes(data)
    map_path = path.with_name("graph.json.map.json")
    mapping = json.loads(map_path.read_bytes())
    mapping.update(graph_crc32=zlib.crc32(data), graph_size=len(data))
    map_path.write_text(json.dumps(mapping), encoding="utf-8")


def _assert_refused(path: Path) -> None:
    before = contents(path.parent)
    with pytest.raises(RaeburnMemoryError) as caught:
        MemoryGraph(path, create=False).close()
    message = str(caught.value)
    assert str(path) in message
    assert "version 3" in message
    assert "2" in message.split("version 3", 1)[1]
    assert contents(path.parent) == before


@pytest.mark.parametrize("state", STATES)
def test_a_snapshot_of_a_newer_format_is_refused(state: str, tmp_path: Path) -> None:
    path = copy_of(state, tmp_path)
    _newer_snapshot(path)
    _assert_refused(path)
    before = contents(path.parent)
    with pytest.raises(CorruptStoreError, match="format version 3 is not supported") as caught:
        JsonStore.open(str(path), create=False)
    assert "upgrade raeburnmemory-core" in str(caught.value)
    assert contents(path.parent) == before


def test_a_newer_formats_compaction_waiting_to_be_renamed_is_refused(tmp_path: Path) -> None:
    """A newer version stopped between writing its next generation and renaming it into place:
    recovering would rename files this version cannot read, so nothing is touched."""
    path = copy_of("json-compacted", tmp_path)
    data = path.read_bytes().replace(b'"version": 1', b'"version": 3')
    path.with_name("graph.json.tmp").write_bytes(data)
    map_path = path.with_name("graph.json.map.json")
    map_path.with_name("graph.json.map.json.tmp").write_bytes(map_path.read_bytes())
    path.with_name("graph.json.journal.tmp").write_bytes(b'{"op": "journal", "generation": 4}\n')
    _assert_refused(path)


@pytest.mark.parametrize("state", STATES)
def test_a_newer_snapshot_read_without_the_maps_index_is_refused(
    state: str, tmp_path: Path
) -> None:
    path = copy_of(state, tmp_path)
    _newer_snapshot(path)
    map_path = path.with_name("graph.json.map.json")
    mapping = json.loads(map_path.read_bytes())
    mapping["index"] = None  # as a map that does not index the snapshot: graph.json is parsed
    map_path.write_text(json.dumps(mapping), encoding="utf-8")
    _assert_refused(path)
    with pytest.raises(CorruptStoreError, match="format version 3 is not supported"):
        JsonStore.open(str(path), create=False)


def test_a_newer_formats_compaction_seen_by_an_open_store_is_refused(tmp_path: Path) -> None:
    """Another process compacts into a newer format while this one has the store open."""
    path = copy_of("json-compacted", tmp_path)
    store = JsonStore.open(str(path), create=False)
    try:
        other = JsonStore.open(str(path), create=False)
        other.compact()
        other.close()
        _newer_snapshot(path)  # as if that process had been a newer version
        before = contents(path.parent)
        with pytest.raises(CorruptStoreError, match="format version 3 is not supported"):
            store.refresh()
        assert contents(path.parent) == before
    finally:
        store.close()
