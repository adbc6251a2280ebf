"""Writers killed with SIGKILL during a compaction that appends to the vectors file, or during
a large batch that writes its vectors there itself and the compaction that lists them.

Every write the child acknowledged must be there after the kill, with its own vector; the
vectors file must again be exactly what the map lists once a store opens (after a large batch:
once the store compacted again); another process that had the store open follows along; and
the store goes on compacting.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.json_store._map_file import read_map
from raeburnmemory.core.json_store._vector_file import SUFFIXES, read_vector_info
from raeburnmemory.core.json_store._vector_tail import TAIL_ROWS
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing.data import interaction, unit_vectors

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

DIM = 64
INFO = EncoderInfo("test-encoder", DIM)
BATCH = 300

# The child appends batches and compacts after each; ``point`` names a step of the compaction
# at which it kills itself (``random``: none, the parent kills it at a random moment).
_WRITER = """
import os, signal, sys
from raeburnmemory.core.json_store import JsonStore, _compaction, _vector_file, _vector_tail
from raeburnmemory.core.testing.data import interaction, unit_vectors


path, prefix, start, point = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
batch, dim = int(sys.argv[5]), int(sys.argv[6])

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

store = JsonStore.open(path, options={"lock_timeout": 60})

if point == "batch-rows-written":  # a large batch's journal lines and rows, not acknowledged
    write_rows = _vector_tail._write_rows
    def write_then_die(tail, block):
        write_rows(tail, block)
        die()
    _vector_tail._write_rows = write_then_die
elif point == "rows-appended":  # rows written, header not yet updated
    _vector_file.VectorFileWriter.finish = die
elif point == "vectors-finished":  # rows and header written, no map yet
    _compaction.write_map = die
elif point == "before-renames":  # every temporary file complete
    _compaction.recover = die
elif point == "mid-renames":  # the map renamed, the snapshot and journal not yet
    replace = os.replace
    def replace_then_die(source, target):
        replace(source, target)
        if str(target).endswith(".map.json"):
            die()
    _compaction.os.replace = replace_then_die
index = start
while True:
    items = [interaction(n, prefix=prefix) for n in range(index, index + batch)]
    vectors = unit_vectors(batch, dim, seed=index)
    store.add(items, vectors)
    print(index, flush=True)  # acknowledged: every item of this batch
    index += batch
    store.compact()
"""


def _spawn(
    path: Path, prefix: str, start: int, point: str, batch: int = BATCH
) -> subprocess.Popen[str]:
    args = [str(path), prefix, str(start), point, str(batch), str(DIM)]
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _expected(prefix: str, starts: list[int], batch: int = BATCH) -> dict[str, np.ndarray]:
    """The vector of every item of the acknowledged batches."""
    vectors: dict[str, np.ndarray] = {}
    for start in starts:
        block = unit_vectors(batch, DIM, seed=start)
        for row in range(batch):
            vectors[interaction(start + row, prefix=prefix).prompt_id] = block[row]
    return vectors


def _acknowledged_starts(writer: subprocess.Popen[str], count: int, delay: float) -> list[int]:
    """Read acknowledged batches until ``count`` arrived (or the writer died), wait ``delay``,
    SIGKILL the writer and return the start of every acknowledged batch."""
    assert writer.stdout is not None
    starts: list[int] = []
    while len(starts) < count:
        line = writer.stdout.readline()
        if not line:
            break
        starts.append(int(line))
    time.sleep(delay)
    if writer.poll() is None:
        writer.send_signal(signal.SIGKILL)
    out, err = writer.communicate(timeout=60)
    starts += [int(line) for line in out.split()]
    assert writer.returncode == -signal.SIGKILL, err
    return starts


def _check(path: Path, expected: dict[str, np.ndarray], *, exact: bool = True) -> None:
    """Every acknowledged item with its own vector, and a vectors file exactly as the map says
    (holding at least the rows it lists when not ``exact``)."""
    with JsonStore.open(str(path), create=False) as store:
        stored = store.load_vectors()
        found = dict(zip(stored.ids, stored.vectors, strict=True))
        assert set(expected) <= set(found)
        assert {item.prompt_id for item in store.iter_interactions()} == set(found)
        for pid, vector in expected.items():
            np.testing.assert_array_equal(found[pid], vector)
        assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    mapping = read_map(Path(f"{path}.map.json"))
    if mapping.fmt is not None:
        vectors = Path(f"{path}{SUFFIXES[mapping.fmt]}")
        if exact:
            info = read_vector_info(vectors, mapping.fmt)  # as a version 1 reader: exact size
            assert info.rows == len(mapping.ids)
        else:
            read_vector_info(vectors, mapping.fmt, len(mapping.ids))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "graph.json"
    with JsonStore.open(str(target)) as store:
        store.set_encoder_info(INFO)
        store.add([interaction(n, prefix="base-") for n in range(50)], unit_vectors(50, DIM))
        store.compact()  # from here on, compactions append
    return target


@pytest.mark.parametrize(
    "point", ["rows-appended", "vectors-finished", "before-renames", "mid-renames"]
)
def test_a_writer_killed_at_each_step_of_an_appending_compaction_loses_nothing(
    path: Path, point: str
) -> None:
    _killed_at(path, point, BATCH)


def _killed_at(path: Path, point: str, batch: int) -> None:
    """A writer of batches of ``batch`` kills itself at ``point``: nothing acknowledged is lost,
    a watcher follows, and the store goes on (exact once it compacted again)."""
    watcher = JsonStore.open(str(path))
    watcher.load_vectors()
    writer = _spawn(path, "k-", 0, point, batch)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == -signal.SIGKILL, err
    starts = [int(line) for line in out.split()]
    # killed inside the first compaction, or before the first batch was acknowledged
    assert starts == ([] if point == "batch-rows-written" else [0])
    expected = _expected("k-", starts, batch)
    changes = watcher.refresh()  # the watcher follows whatever the kill left
    seen = set(watcher.load_vectors().ids) if changes.reset else set(changes.added.ids)
    assert set(expected) <= seen | {f"base-{n}" for n in range(50)}
    watcher.close()
    _check(path, expected, exact=batch < TAIL_ROWS)
    with JsonStore.open(str(path), create=False) as store:  # and the store goes on
        store.add([interaction(0, prefix="after-")], unit_vectors(1, DIM, seed=7))
        store.compact()
    _check(path, {**expected, "after-0": unit_vectors(1, DIM, seed=7)[0]})


def test_a_store_open_through_a_kill_between_renames_follows_the_finished_compaction(
    path: Path,
) -> None:
    """Another compaction since the watcher's last look, then one killed after renaming the
    map: the watcher finishes it rather than reading a map and a snapshot of two generations."""
    watcher = JsonStore.open(str(path))
    watcher.load_vectors()
    with JsonStore.open(str(path)) as other:
        other.add([interaction(0, prefix="o-")], unit_vectors(1, DIM, seed=3))
        other.compact()
    writer = _spawn(path, "k-", 0, "mid-renames")
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == -signal.SIGKILL, err
    assert out.split() == ["0"]
    assert Path(f"{path}.journal.tmp").exists()  # the kill left the compaction to finish
    expected = {**_expected("k-", [0]), "o-0": unit_vectors(1, DIM, seed=3)[0]}
    watcher.refresh()
    assert set(expected) <= set(watcher.load_vectors().ids)
    watcher.close()
    _check(path, expected)


@pytest.mark.parametrize("point", ["before-renames", "mid-renames"])
def test_a_write_after_a_kill_between_renames_survives_the_finished_compaction(
    path: Path, point: str
) -> None:
    """A store open through the kill writes next: its write goes to the journal the finished
    compaction keeps, not to the old one that finishing the renames replaces."""
    survivor = JsonStore.open(str(path))
    survivor.load_vectors()
    writer = _spawn(path, "k-", 0, point)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == -signal.SIGKILL, err
    assert out.split() == ["0"]
    assert Path(f"{path}.journal.tmp").exists()
    survivor.add([interaction(0, prefix="late-")], unit_vectors(1, DIM, seed=5))
    # opened while the survivor still runs (its close would compact: that would hide a loss)
    _check(path, {**_expected("k-", [0]), "late-0": unit_vectors(1, DIM, seed=5)[0]})
    survivor.close()


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """A store without a vectors file yet: a large batch makes one."""
    target = tmp_path / "graph.json"
    with JsonStore.open(str(target)) as store:
        store.set_encoder_info(INFO)
    return target


_LARGE_BATCH_POINTS = [
    "batch-rows-written",
    "rows-appended",
    "vectors-finished",
    "before-renames",
    "mid-renames",
]


@pytest.mark.parametrize("point", _LARGE_BATCH_POINTS)
def test_a_writer_killed_at_each_step_of_a_large_batch_and_its_compaction_loses_nothing(
    path: Path, point: str
) -> None:
    """The batch wrote its rows past the listed ones, and the compaction lists them."""
    _killed_at(path, point, TAIL_ROWS)


@pytest.mark.parametrize("point", _LARGE_BATCH_POINTS)
def test_a_writer_killed_in_the_first_large_batch_of_a_store_loses_nothing(
    empty: Path, point: str
) -> None:
    """The batch made the vectors file, and the compaction lists its rows."""
    _killed_at(empty, point, TAIL_ROWS)


def test_writers_killed_at_random_moments_of_compactions_lose_nothing(path: Path) -> None:
    _killed_at_random(path, BATCH)


def test_writers_killed_at_random_moments_of_large_batches_lose_nothing(empty: Path) -> None:
    _killed_at_random(empty, TAIL_ROWS)


def _killed_at_random(path: Path, batch: int) -> None:
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    watcher = JsonStore.open(str(path))
    watcher.load_vectors()
    expected: dict[str, np.ndarray] = {}
    for round_number in range(6):
        prefix = f"r{round_number}-"
        writer = _spawn(path, prefix, 0, "random", batch)
        starts = _acknowledged_starts(writer, rng.randint(1, 3), rng.uniform(0.0, 0.3))
        expected.update(_expected(prefix, starts, batch))
        watcher.refresh()
        _check(path, expected, exact=batch < TAIL_ROWS)
    seen = set(watcher.load_vectors().ids)
    assert set(expected) <= seen
    watcher.close()
