"""Several real processes on one JSON store, and processes killed with SIGKILL mid-write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing.data import interaction, unit_vectors
from raeburnmemory.core.testing.processes import kill_after_acknowledged

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

DIM = 16
INFO = EncoderInfo("test-encoder", DIM)

_WRITER = """
import sys
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors


path, prefix, count, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = JsonStore.open(path, options={"lock_timeout": 60})
store.set_encoder_info(EncoderInfo("test-encoder", 16))
index = 0
while count < 0 or index < count:
    item = interaction(index, prefix=prefix)
    store.add([item], unit_vectors(1, 16, seed=index))
    print(item.prompt_id, flush=True)  # acknowledged: the add returned
    index += 1
    if mode == "compact" and index % 7 == 0:
        store.compact()
    if mode == "batch" and index % 10 == 0:
        batch = interactions(5, start=index * 1000, prefix=prefix)
        store.add(batch, unit_vectors(5, 16, seed=index))
        for done in batch:
            print(done.prompt_id, flush=True)
store.close()
"""


def _spawn(path: Path, prefix: str, count: int, mode: str = "plain") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), prefix, str(count), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "graph.json"
    with JsonStore.open(str(target)) as store:
        store.set_encoder_info(INFO)
    return target


def test_writers_in_several_processes_lose_nothing(path: Path) -> None:
    watcher = JsonStore.open(str(path))
    watcher.load_vectors()
    writers = [_spawn(path, f"w{n}-", 30, "compact" if n == 0 else "batch") for n in range(3)]
    acknowledged: set[str] = set()
    for writer in writers:
        out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err
        acknowledged |= set(out.split())
    assert len(acknowledged) == 30 * 3 + 15 * 2
    seen: set[str] = set()
    while True:  # the watcher follows through other processes' compactions
        changes = watcher.refresh()
        if changes.reset:
            seen = set(watcher.load_vectors().ids)
            continue
        if not changes:
            break
        seen |= set(changes.added.ids)
    assert seen == acknowledged
    assert {item.prompt_id for item in watcher.iter_interactions()} == acknowledged
    watcher.close()
    with JsonStore.open(str(path), create=False) as store:
        assert store.count() == len(acknowledged)
        assert set(store.load_vectors().ids) == acknowledged
        assert store.get("w1-29") == interaction(29, prefix="w1-")


@pytest.mark.parametrize("mode", ["plain", "compact"])
def test_sigkill_mid_write_loses_no_acknowledged_write(path: Path, mode: str) -> None:
    acknowledged = kill_after_acknowledged(_spawn(path, "k-", -1, mode), 40)
    assert len(acknowledged) >= 40
    with JsonStore.open(str(path), create=False) as store:
        stored = {item.prompt_id for item in store.iter_interactions()}
        assert set(acknowledged) <= stored
        assert set(store.load_vectors().ids) == stored
        store.add([interaction(0, prefix="after-")], unit_vectors(1, DIM))
    journal = Path(f"{path}.journal").read_text()
    assert journal.endswith("\n")
    for line in journal.splitlines():
        json.loads(line)
    with JsonStore.open(str(path), create=False) as store:
        assert store.get("after-0") is not None
        assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


# The child only takes the lock, writes to a pipe and exits: no thread of the parent matters.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_takes_its_own_lock(path: Path) -> None:
    store = JsonStore.open(str(path))
    store.add([interaction(0)], unit_vectors(1, DIM))  # the lock file is open before the fork
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        store._flock.acquire()
        os.write(write_end, b"locked")
        time.sleep(1.0)
        os._exit(0)
    os.close(write_end)
    try:
        assert os.read(read_end, 16) == b"locked"
        begun = time.monotonic()
        store.add([interaction(1)], unit_vectors(1, DIM))  # waits for the child's lock
        assert time.monotonic() - begun > 0.3
    finally:
        os.waitpid(child, 0)
        os.close(read_end)
    assert store.count() == 2
    store.close()
