"""What the SQLite store does beyond the shared store contract, on real database files."""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core import json_text
from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    EmbeddingMismatchError,
    StoreError,
)
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing import interaction, interactions, unit_vectors
from raeburnmemory.sqlite import SQLiteStore
from raeburnmemory.sqlite import store as store_module

DIM = 32


def _open_fds(path: Path) -> int:
    """How many of this process's file descriptors point at ``path``."""
    count = 0
    for entry in Path("/proc/self/fd").iterdir():
        try:
            if os.readlink(entry) == str(path):
                count += 1
        except OSError:
            continue
    return count


def test_reads_keep_their_order(store: SQLiteStore) -> None:
    items = interactions(8, sessions=3, agents=2)
    late = interaction(
        20, agents=2, session_id="session-1", timestamp=datetime(2020, 1, 1, tzinfo=timezone.utc)
    )
    store.add([*items, late], None)
    assert store.sessions() == ["session-0", "session-1", "session-2"]
    assert [i.prompt_id for i in store.session("session-1")] == ["p20", "p1", "p4", "p7"]
    assert store.session("nope") == []
    assert [i.prompt_id for i in store.iter_interactions()] == [*(f"p{i}" for i in range(8)), "p20"]
    assert [i.prompt_id for i in store.get_many(["p3", "zz", "p1", "p3"])] == ["p3", "p1", "p3"]
    assert store.stats() == {"interactions": 9, "sessions": 3, "agents": 2, "links": 0}


def test_iterating_pages_through_many_rows(store: SQLiteStore) -> None:
    store.add(interactions(2500), None)
    assert [i.prompt_id for i in store.iter_interactions()] == [f"p{i}" for i in range(2500)]


def test_agents_keep_their_latest_name_and_attributes(store: SQLiteStore) -> None:
    store.add([interaction(0, agents=1, agent_name="Old", agent_attrs={"v": 1})], None)
    store.add([interaction(1, agents=2)], None)
    store.add([interaction(2, agents=1, agent_name="New", agent_attrs={"v": 2})], None)
    agents = store.agents()
    assert [(a.id, a.name, dict(a.attrs)) for a in agents] == [
        ("agent-0", "New", {"v": 2}),
        ("agent-1", "Agent 1", {}),
    ]
    store.delete(["p1"])
    assert [a.id for a in store.agents()] == ["agent-0"]


def test_the_encoder_record(open_store: Any) -> None:
    store = open_store()
    assert store.encoder_info() is None
    store.set_encoder_info(EncoderInfo("a", DIM))
    store.set_encoder_info(EncoderInfo("b", DIM))  # no vectors yet: may change
    assert open_store().encoder_info() == EncoderInfo("b", DIM)
    store.add(interactions(1), unit_vectors(1, DIM))
    with pytest.raises(EmbeddingMismatchError, match="'b'"):
        store.set_encoder_info(EncoderInfo("c", 8))
    store.set_encoder_info(EncoderInfo("b", DIM))


def test_replace_vectors_swaps_every_vector(store: SQLiteStore, open_store: Any) -> None:
    other = open_store()
    store.add(interactions(4), unit_vectors(4, DIM))
    other.refresh()
    new = unit_vectors(4, 8, seed=9)
    store.replace_vectors(
        [(["p0", "p1"], new[:2]), (["p2", "p3", "gone"], np.vstack([new[2:], new[:1]]))],
        EncoderInfo("small", 8),
    )
    assert store.encoder_info() == EncoderInfo("small", 8)
    loaded = store.load_vectors()
    np.testing.assert_array_equal(loaded.vectors, new)
    assert other.refresh().reset
    assert not store.refresh()


def test_refresh_returns_other_writers_changes_only(store: SQLiteStore, open_store: Any) -> None:
    other = open_store()
    assert not other.refresh()
    store.add(interactions(3), unit_vectors(3, DIM))
    store.delete(["p0"])
    changes = other.refresh()
    assert changes.added.ids == ["p1", "p2"]
    assert changes.removed == ["p0"]
    assert changes.added.vectors.shape == (2, DIM)
    assert not other.refresh()
    assert not store.refresh()  # its own writes are never reported back
    other.add([interaction(5)], unit_vectors(1, DIM))
    assert store.refresh().added.ids == ["p5"]


def test_interleaved_writers_never_miss_each_other(store: SQLiteStore, open_store: Any) -> None:
    other = open_store()
    other.add([interaction(1)], unit_vectors(1, DIM))
    store.add([interaction(2)], unit_vectors(1, DIM))  # logged after one it has not seen yet
    assert store.refresh().added.ids == ["p1"]
    store.add([interaction(3)], unit_vectors(1, DIM))
    other.add([interaction(4)], unit_vectors(1, DIM))
    assert store.refresh().added.ids == ["p4"]
    assert other.refresh().added.ids == ["p2", "p3"]
    with pytest.raises(ConflictError):
        store.add([interaction(5), interaction(4, prompt_text="changed")], None)
    other.add([interaction(6)], unit_vectors(1, DIM))
    other.add([interaction(7)], None)  # no vector: nothing for an index to add or remove
    changes = store.refresh()
    assert (changes.added.ids, changes.removed) == (["p6"], [])


def test_a_trimmed_change_log_asks_for_a_reload(
    store: SQLiteStore, open_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = open_store()
    store.add(interactions(2), unit_vectors(2, DIM))
    monkeypatch.setattr(store_module, "CHANGE_RETENTION_SECONDS", -1.0)
    store.compact()
    assert other.refresh().reset
    store.add([interaction(3)], unit_vectors(1, DIM))
    assert other.refresh().added.ids == ["p3"]


def test_every_thread_gets_a_working_connection(store: SQLiteStore) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                store.add([interaction(n * 100 + i)], unit_vectors(1, DIM, seed=i))
                assert store.get(f"p{n * 100 + i}") is not None
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count() == 40


def test_close_releases_every_connection(db_path: Path) -> None:
    store = SQLiteStore.open(str(db_path))
    thread = threading.Thread(target=store.count)
    thread.start()
    thread.join()
    assert _open_fds(db_path) >= 2
    store.close()
    store.close()
    assert _open_fds(db_path) == 0
    with pytest.raises(StoreError, match="closed"):
        store.count()
    with SQLiteStore.open(str(db_path)) as again:
        again.count()
    assert _open_fds(db_path) == 0
    forgotten = SQLiteStore.open(str(db_path))
    forgotten.count()
    del forgotten
    gc.collect()
    assert _open_fds(db_path) == 0


def test_bad_options_are_refused(db_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="busy_timeout"):
        SQLiteStore.open(str(db_path), options={"busy_timeout": "soon"})
    with pytest.raises(ConfigurationError, match="fsync"):
        SQLiteStore.open(str(db_path), options={"fsync": "yes"})
    with pytest.raises(ConfigurationError, match="qdrant"):
        SQLiteStore.open(str(db_path), vector_backend="qdrant")
    for value in (float("nan"), float("inf"), "nan"):
        with pytest.raises(ConfigurationError, match="busy_timeout must be a number of seconds"):
            SQLiteStore.open(str(db_path), options={"busy_timeout": value})
    known = r"unknown option\(s\) busy for the sqlite store; known options: busy_timeout, fsync"
    with pytest.raises(ConfigurationError, match=known):
        SQLiteStore.open(str(db_path), options={"busy": 5})
    assert not db_path.exists()


def test_seconds_may_be_given_as_text(db_path: Path) -> None:
    with SQLiteStore.open(str(db_path), options={"busy_timeout": "2.5"}) as store:
        assert store._transactions.busy_timeout == 2.5


def test_fsync_makes_commits_full(db_path: Path) -> None:
    with SQLiteStore.open(str(db_path), options={"fsync": True}) as store:
        conn, _ = store._conn()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with SQLiteStore.open(str(db_path)) as store:
        conn, _ = store._conn()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 16384


def test_count_stays_right_under_concurrent_writers(store: SQLiteStore, open_store: Any) -> None:
    other = open_store()
    stop = time.monotonic() + 0.5
    store.add(interactions(50), None)
    while time.monotonic() < stop:
        other.delete(["p1", "p2"])
        store.add(interactions(5), None)
    conn, _ = store._conn()
    assert store.count() == conn.execute("SELECT COUNT(*) FROM interactions").fetchone()[0] == 50


def test_a_record_nested_past_the_recursion_limit_still_reads(
    store: SQLiteStore, open_store: Any, db_path: Path
) -> None:
    """Such a record can only come from before the limits: it is written into the file here."""
    store.add(interactions(2), unit_vectors(2, DIM))
    depth = 3 * sys.getrecursionlimit()
    deep = '{"in": ' * depth + "1" + "}" * depth
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE interactions SET agent_attrs = ? WHERE prompt_id = 'p1'", (deep,))
    store.close()
    again = open_store(create=False)
    got = again.get("p1")
    assert got is not None
    assert json_text.dumps(got.agent_attrs) == deep
    assert [item.prompt_id for item in again.iter_interactions()] == ["p0", "p1"]
    assert again.get("p0") == interaction(0)


def test_the_change_log_keeps_its_stored_words(store: SQLiteStore) -> None:
    store.add(interactions(2), unit_vectors(2, DIM))
    store.delete(["p0"])
    store.replace_vectors([(["p1"], unit_vectors(1, 8))], EncoderInfo("other", 8))
    conn, _ = store._conn()
    rows = conn.execute("SELECT op, prompt_id FROM changes ORDER BY seq").fetchall()
    assert rows == [("add", "p0"), ("add", "p1"), ("delete", "p0"), ("reset", None)]
