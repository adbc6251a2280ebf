"""Several real processes on one database file, and writers killed in the middle of a write."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.model import EncoderInfo, SearchFilter
from raeburnmemory.core.testing import interaction, kill_after_acknowledged, unit_vectors
from raeburnmemory.sqlite import SQLiteStore
from raeburnmemory.sqlite._driver import driver

DIM = 16
ENCODER = EncoderInfo("test-encoder", DIM)
SQL: Any = driver().module  # the same SQLite library as the store's (see test_sqlite_files)
# The shared MemoryGraph contract runs writers and SIGKILL in every vector mode; these tests
# add what only the database shows (integrity, the vec0 shadow tables) in the richest mode.
VEC_MODES: list[str | None] = ["sqlite-vec" if importlib.util.find_spec("sqlite_vec") else None]

_WRITER = f"""
import sys
from raeburnmemory.core.testing import interactions, unit_vectors
from raeburnmemory.sqlite import SQLiteStore
path, prefix, mode = sys.argv[1], sys.argv[2], sys.argv[5]
count, batch = int(sys.argv[3]), int(sys.argv[4])
store = SQLiteStore.open(path, vector_backend=mode or None)
items = interactions(count, prefix=prefix)
vectors = unit_vectors(count, {DIM}, seed=len(prefix))
print("ready", flush=True)
for start in range(0, count, batch):
    store.add(items[start:start + batch], vectors[start:start + batch])
    print("\\n".join(item.prompt_id for item in items[start:start + batch]), flush=True)
store.close()
"""


def _writer(path: Path, prefix: str, count: int, batch: int, mode: str | None) -> Any:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), prefix, str(count), str(batch), mode or ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _integrity(path: Path) -> str:
    conn = SQL.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture(params=VEC_MODES, ids=lambda mode: mode or "plain")
def mode(request: pytest.FixtureRequest) -> str | None:
    return request.param  # type: ignore[no-any-return]


def test_concurrent_writers_lose_nothing_and_are_seen(db_path: Path, mode: str | None) -> None:
    with SQLiteStore.open(str(db_path), vector_backend=mode) as store:
        store.set_encoder_info(ENCODER)
        store.add([interaction(0)], unit_vectors(1, DIM))
        writers = [_writer(db_path, f"w{n}-", 60, 1 + n, mode) for n in range(3)]
        for writer in writers:
            _, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err
        expected = {f"w{n}-{i}" for n in range(3) for i in range(60)}
        changes = store.refresh()
        assert set(changes.added.ids) == expected
        assert changes.removed == []
        assert store.count() == 181
        assert set(store.load_vectors().ids) == expected | {"p0"}
        if mode:
            hits = store.vector_search(unit_vectors(1, DIM), 500, SearchFilter())
            assert len(hits) == 181
    assert _integrity(db_path) == "ok"


def test_a_killed_writer_leaves_a_sound_database(db_path: Path, mode: str | None) -> None:
    with SQLiteStore.open(str(db_path), vector_backend=mode) as store:
        store.set_encoder_info(ENCODER)
    acknowledged = kill_after_acknowledged(_writer(db_path, "k", 100_000, 5, mode), 400)
    assert len(acknowledged) >= 400
    assert _integrity(db_path) == "ok"
    with SQLiteStore.open(str(db_path), vector_backend=mode) as store:
        stored = {item.prompt_id for item in store.iter_interactions()}
        assert set(acknowledged) <= stored
        assert store.count() == len(stored)
        assert len(store.load_vectors()) == len(stored)
        if mode:
            hits = store.vector_search(unit_vectors(1, DIM), len(stored), SearchFilter())
            assert {pid for pid, _ in hits} == stored
        store.add([interaction(1)], unit_vectors(1, DIM))
    assert _integrity(db_path) == "ok"
