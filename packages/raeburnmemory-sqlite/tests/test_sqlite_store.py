"""The SQLite store meets the Store contract on a real database file."""

from __future__ import annotations

import gc
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    EmbeddingMismatchError,
    NotFoundError,
    StoreError,
)
from raeburnmemory.core.model import EncoderInfo, Link, SearchFilter
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


def test_interactions_round_trip_exactly(store: SQLiteStore) -> None:
    moment = datetime(2026, 5, 17, 8, 30, 12, 345678, tzinfo=timezone.utc)
    item = interaction(
        7,
        timestamp=moment,
        metadata={"tags": ["a", "é"], "n": 1.5, "none": None},
        prompt_attrs={"lang": "fr"},
        response_attrs={"tokens": 12},
        agent_attrs={"model": "small"},
    )
    assert store.add([item], unit_vectors(1, DIM)) == ["p7"]
    assert store.get("p7") == item
    assert store.get("missing") is None
    assert store.count() == 1


def test_duplicates_are_skipped_and_conflicts_refused(store: SQLiteStore) -> None:
    first = interactions(3)
    assert store.add(first, unit_vectors(3, DIM)) == ["p0", "p1", "p2"]
    again = [*first, interaction(3)]
    assert store.add(again, unit_vectors(4, DIM)) == ["p3"]
    with pytest.raises(ConflictError, match="p1"):
        store.add([interaction(9), interaction(1, prompt_text="other")], unit_vectors(2, DIM))
    with pytest.raises(ConflictError, match="r-p0"):
        store.add([interaction(10, response_id="r-p0")], unit_vectors(1, DIM))
    with pytest.raises(ConflictError, match="p11"):
        store.add([interaction(11), interaction(11, response_text="x")], unit_vectors(2, DIM))
    assert store.count() == 4
    assert store.get("p9") is None
    assert len(store.load_vectors()) == 4


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


def test_links_and_deletes(store: SQLiteStore) -> None:
    store.add(interactions(4), unit_vectors(4, DIM))
    store.link(Link("p0", "p1"))
    store.link(Link("p0", "p1"))  # the same link twice is one link
    store.link(Link("p2", "p3", "cites"))
    with pytest.raises(NotFoundError, match="nope"):
        store.link(Link("p0", "nope"))
    assert store.links() == [Link("p0", "p1"), Link("p2", "p3", "cites")]
    assert store.delete(["p1", "missing", "p1"]) == ["p1"]
    assert store.delete(["p1"]) == []
    assert store.links() == [Link("p2", "p3", "cites")]
    assert store.get("p1") is None
    assert "p1" not in store.load_vectors().ids
    assert store.count() == 3
    # the deleted response id is free again
    assert store.add([interaction(1)], unit_vectors(1, DIM)) == ["p1"]


def test_vectors_load_with_their_payloads(store: SQLiteStore) -> None:
    items = interactions(5)
    vectors = unit_vectors(5, DIM, seed=3)
    store.add(items[:2], vectors[:2])
    store.add(items[2:], vectors[2:])
    loaded = store.load_vectors()
    assert loaded.ids == [i.prompt_id for i in items]
    np.testing.assert_array_equal(loaded.vectors, vectors)
    assert loaded.payloads == [i.payload for i in items]
    assert SearchFilter(since=items[3].payload.timestamp).matches(loaded.payloads[3])


def test_vectors_of_the_wrong_shape_are_refused(store: SQLiteStore) -> None:
    with pytest.raises(ConfigurationError, match="dimensions"):
        store.add(interactions(2), unit_vectors(2, DIM + 1))
    with pytest.raises(ConfigurationError, match="one vector per interaction"):
        store.add(interactions(2), unit_vectors(3, DIM))
    assert store.count() == 0


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


def test_a_failed_replace_changes_nothing(store: SQLiteStore) -> None:
    vectors = unit_vectors(3, DIM)
    store.add(interactions(3), vectors)

    def batches() -> Any:
        yield ["p0"], unit_vectors(1, 8)
        raise RuntimeError("encoder crashed")

    with pytest.raises(RuntimeError):
        store.replace_vectors(batches(), EncoderInfo("small", 8))
    assert store.encoder_info() is not None
    assert store.encoder_info().dim == DIM
    np.testing.assert_array_equal(store.load_vectors().vectors, vectors)


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
    assert not db_path.exists()


def test_fsync_makes_commits_full(db_path: Path) -> None:
    with SQLiteStore.open(str(db_path), options={"fsync": True}) as store:
        conn, _ = store._conn()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with SQLiteStore.open(str(db_path)) as store:
        conn, _ = store._conn()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_count_stays_right_under_concurrent_writers(store: SQLiteStore, open_store: Any) -> None:
    other = open_store()
    stop = time.monotonic() + 0.5
    store.add(interactions(50), None)
    while time.monotonic() < stop:
        other.delete(["p1", "p2"])
        store.add(interactions(5), None)
    conn, _ = store._conn()
    assert store.count() == conn.execute("SELECT COUNT(*) FROM interactions").fetchone()[0] == 50
