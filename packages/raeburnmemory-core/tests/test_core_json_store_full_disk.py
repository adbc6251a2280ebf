"""The JSON store on a real full disk: a small tmpfs mounted for the test (needs root)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from raeburnmemory.core.errors import PartialWriteError, StoreError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.testing import interactions
from raeburnmemory.memory_graph import MemoryGraph

SmallDisk = Callable[[str], Path]


@pytest.fixture
def small_disk() -> Iterator[SmallDisk]:
    """Mounts tmpfs file systems of a given size (``small_disk("8m")``), unmounted afterwards."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        where = Path(tempfile.mkdtemp(prefix="raeburnmemory-full-"))
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            where.rmdir()
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def _fill(where: Path, leave: int) -> None:
    """Take all free space of ``where`` but ``leave`` bytes."""
    stat = os.statvfs(where)
    free = stat.f_bavail * stat.f_frsize
    with (where / "filler").open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def _chattr(flag: str, path: Path) -> None:
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot change file attributes here: {done.stderr.strip()}")


def _leftovers(where: Path) -> list[str]:
    return sorted(p.name for p in where.iterdir() if p.name.endswith(".tmp"))


def test_a_batch_on_a_full_disk_writes_nothing_and_says_so(small_disk: SmallDisk) -> None:
    where = small_disk("8m")
    path = where / "graph.json"
    with MemoryGraph(path, embedding_model=None) as graph:
        graph.batch_add(interactions(2))
        _fill(where, 1 << 20)  # room for far less than the batch
        with pytest.raises(StoreError, match=r"graph\.json\.journal: .*nothing was written"):
            graph.batch_add(interactions(3000, start=10))
        assert graph.stats()["interactions"] == 2
    (where / "filler").unlink()
    with MemoryGraph(path, embedding_model=None) as graph:
        assert graph.stats()["interactions"] == 2
        assert len(graph.batch_add(interactions(3000, start=10))) == 3000


def test_a_batch_cut_short_that_cannot_be_undone_names_what_was_written(
    small_disk: SmallDisk,
) -> None:
    where = small_disk("16m")
    path = where / "graph.json"
    journal = Path(f"{path}.journal")
    batch = interactions(2 * 2048, start=10)  # two journal lines of about 5 MB each
    with MemoryGraph(path, embedding_model=None) as graph:
        graph.batch_add(interactions(2))
        _fill(where, 7 << 20)  # room for the first line only
        _chattr("+a", journal)  # appends only: the journal cannot be cut back
        try:
            with pytest.raises(PartialWriteError) as caught:
                graph.batch_add(batch)
        finally:
            _chattr("-a", journal)
        written = [item.prompt_id for item in batch[:2048]]
        assert caught.value.written_ids == written
        message = str(caught.value)
        assert "2048 interactions were written before the failure (first 'p10', last " in message
        assert "'p2057'" in message
        assert graph.stats()["interactions"] == 2 + 2048  # read back from the journal
        assert graph.get_similar_prompts(batch[5].prompt_text, 1) == [batch[5].prompt_id]
    (where / "filler").unlink()
    with MemoryGraph(path, embedding_model=None) as graph:
        assert graph.stats()["interactions"] == 2 + 2048
        assert graph.batch_add(batch) == [item.prompt_id for item in batch[2048:]]
    with MemoryGraph(path, embedding_model=None) as graph:
        assert graph.stats()["interactions"] == 2 + len(batch)


def test_compaction_on_a_full_disk_names_the_file_and_leaves_no_temporary_file(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    """The snapshot is written first, then the new vectors are appended to the vectors file in
    place, then the map: a full disk in each names that file, and the vectors file is cut back
    to the rows the map lists."""
    where = small_disk("32m")
    path = where / "graph.json"
    with MemoryGraph(path, embedding_model=None) as graph:
        graph.batch_add(interactions(3000))
        graph.store.compact()
        sizes = {p.name: p.stat().st_size for p in where.iterdir()}
        vectors = next(name for name in sizes if name.endswith((".faiss", ".npy")))
        vectors_before = (where / vectors).read_bytes()
        graph.batch_add(interactions(10, start=5000))  # something to fold again
        appended = 10 * (sizes[vectors] // 3000)
        assert appended > 3 * 4096  # more than the slack left below
        copy = tmp_path / "copy"
        shutil.copytree(where, copy, ignore=shutil.ignore_patterns("lost+found"))
        with JsonStore.open(str(copy / "graph.json")) as other:
            other.compact()
        room = (copy / "graph.json").stat().st_size  # the next snapshot's size
        failing = {"graph.json.tmp": room // 2}  # free space that runs out inside each file
        failing[vectors] = room + 4096
        room += appended
        failing["graph.json.map.json.tmp"] = room + sizes["graph.json.map.json"] // 2
        for name, leave in failing.items():
            _fill(where, leave)
            with pytest.raises(StoreError) as caught:
                graph.store.compact()
            assert str(caught.value).startswith(f"{where / name}: cannot write it: ")
            assert "the disk is full" in str(caught.value)
            assert _leftovers(where) == []
            assert (where / vectors).read_bytes() == vectors_before
            (where / "filler").unlink()
            assert graph.stats()["interactions"] == 3010
    with MemoryGraph(path, embedding_model=None) as graph:
        assert graph.stats()["interactions"] == 3010
