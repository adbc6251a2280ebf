"""MemoryGraph.export writes a file whole or not at all, and says which file it could not write."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from raeburnmemory.core.errors import ExportTargetError, StoreError
from raeburnmemory.core.testing import interactions
from raeburnmemory.core.testing.export_contract import fingerprint
from raeburnmemory.memory_graph import MemoryGraph

# Exports larger than the small file systems below.
COUNT = 400


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A JSON store of ``COUNT`` interactions, in its own folder."""
    path = tmp_path / "store" / "graph.json"
    with MemoryGraph(path, embedding_model=None, vector_backend="numpy") as graph:
        graph.batch_add(interactions(COUNT))
    return path


def graph_on(path: Path) -> MemoryGraph:
    """The graph of the store at ``path``, offline."""
    return MemoryGraph(path, embedding_model=None, vector_backend="numpy")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (mounting needs root; skipped where it cannot be mounted)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    command = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)]
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        pytest.skip("this system does not let the tests mount a tmpfs")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_raises_store_error_naming_the_file(store: Path, small_disk: Path) -> None:
    target = small_disk / "export.json"
    previous = small_disk / "previous.json"
    previous.write_text("[]")
    with graph_on(store) as graph:
        with pytest.raises(StoreError, match="No space left on device") as raised:
            graph.export(target)
        assert str(target) in str(raised.value)
        with pytest.raises(StoreError, match=str(previous)):
            graph.export(previous)
    assert sorted(p.name for p in small_disk.iterdir()) == ["previous.json"]
    assert previous.read_text() == "[]"
    with graph_on(store) as graph:
        assert graph.stats()["interactions"] == COUNT


_WRITE_UNDER_A_FILE_SIZE_LIMIT = """
import resource, sys
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.core.errors import StoreError
graph = MemoryGraph(sys.argv[1], embedding_model=None, vector_backend="numpy")
resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))
try:
    with graph.open_export(sys.argv[2]) as out:
        for chunk in graph.iter_node_link_json():
            out.write(chunk)
except StoreError as exc:
    print(exc)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_file_size_limit_raises_store_error_and_leaves_nothing(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "export.json"
    command = [sys.executable, "-c", _WRITE_UNDER_A_FILE_SIZE_LIMIT, str(store), str(target)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.startswith(f"{target}: cannot write the export: File too large"), done
    assert list(out.iterdir()) == []


def test_export_onto_the_store_changes_nothing(store: Path) -> None:
    with graph_on(store) as graph:
        graph.add_interaction(
            {"id": "late", "text": "in the journal"}, {"id": "rl", "text": "ok"}, {"id": "a"}, "s"
        )
        journal = fingerprint(store.parent)
        for target in (store, Path(f"{store}.journal"), store.parent / "x" / ".." / store.name):
            with pytest.raises(ExportTargetError, match="nothing was written"):
                graph.export(target)
        assert fingerprint(store.parent) == journal  # not even compacted
    with graph_on(store) as graph:
        assert graph.stats()["interactions"] == COUNT + 1


def test_a_folder_or_a_file_in_the_way_is_named(store: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with graph_on(store) as graph:
        with pytest.raises(StoreError, match=f"{tmp_path}: is a folder"):
            graph.export(tmp_path)
        with pytest.raises(StoreError, match=f"{blocker / 'export.json'}: cannot write"):
            graph.export(blocker / "export.json")
    assert blocker.read_text() == "a file, not a folder"


def test_a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(
    store: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared.json"
    shared.write_text("old")
    shared.chmod(0o640)
    fresh = tmp_path / "fresh.json"
    old_umask = os.umask(0o022)
    try:
        with graph_on(store) as graph:
            graph.export(shared)
            graph.export(fresh)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    assert json.loads(shared.read_text()) == json.loads(fresh.read_text())
