"""Where the database lives, files that are not ours, locks and schema versions."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.errors import (
    CorruptStoreError,
    StoreLockedError,
    StoreNotFoundError,
)
from raeburnmemory.core.testing import interactions
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.sqlite import SCHEMA_VERSION, SQLiteStore, _schema
from raeburnmemory.sqlite._driver import driver

# The driver the store uses: two SQLite libraries on one file in one process break each
# other's locks, so the tests touch the files with the same one.
SQL: Any = driver().module


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["mem.sqlite", "mem.sqlite3", "mem.json", "memory"])
def test_the_path_is_used_as_given(tmp_path: Path, name: str) -> None:
    with SQLiteStore.open(str(tmp_path / name)) as store:
        assert store.location == str(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_json_store_is_not_opened_as_a_database(tmp_path: Path) -> None:
    path = tmp_path / "mem.json"
    with MemoryGraph(str(path), embedding_model=None) as graph:
        graph.batch_add(interactions(2))
    before = {p.name: _digest(p) for p in tmp_path.iterdir()}
    with pytest.raises(CorruptStoreError, match=r"mem\.json is a raeburnmemory JSON store"):
        SQLiteStore.open(str(path))
    assert {p.name: _digest(p) for p in tmp_path.iterdir()} == before


def test_a_read_never_makes_a_database(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(StoreNotFoundError):
        SQLiteStore.open(str(tmp_path / "mem.db"), create=False)
    with pytest.raises(CorruptStoreError, match="empty file"):
        SQLiteStore.open(str(tmp_path / "empty.db"), create=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
    assert (tmp_path / "empty.db").read_bytes() == b""


def test_the_default_follows_raeburn_db_path(offline_home: Path) -> None:
    with SQLiteStore.open(None) as store:
        assert Path(store.location) == offline_home / ".raeburnbrain" / "graph.db"
    assert (offline_home / ".raeburnbrain" / "graph.db").is_file()


def test_the_default_is_in_the_home_folder(
    offline_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAEBURN_DB_PATH")
    with SQLiteStore.open(None) as store:
        assert Path(store.location) == offline_home / ".raeburnbrain" / "graph.db"


def test_a_missing_database_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match=r"nothing\.db"):
        SQLiteStore.open(str(tmp_path / "nothing.db"), create=False)
    assert not (tmp_path / "nothing.db").exists()


def _sqlite_db(*statements: str) -> Callable[[Path], None]:
    """Makes another application's SQLite database with these statements."""

    def make(path: Path) -> None:
        conn = SQL.connect(path)
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()

    return make


def _garbage_after_header(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_text('{"nodes": []}'), "not a SQLite database"),
        (lambda p: p.write_bytes(b"\x00" * 5000), "not a SQLite database"),
        (_garbage_after_header, "cannot be"),
        (
            _sqlite_db("CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('keep me')"),
            "not a raeburnmemory store",
        ),
        (
            _sqlite_db(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                "INSERT INTO meta VALUES ('format', 'something-else')",
            ),
            "not a raeburnmemory store",
        ),
    ],
    ids=["json", "zeros", "garbage", "other-app", "other-meta"],
)
def test_a_file_that_is_not_ours_is_refused_and_untouched(
    tmp_path: Path, make: Callable[[Path], None], reason: str
) -> None:
    path = tmp_path / "graph.db"
    make(path)
    before = _digest(path)
    siblings = sorted(p.name for p in tmp_path.iterdir())
    for create in (True, False):
        with pytest.raises(CorruptStoreError, match=reason) as caught:
            SQLiteStore.open(str(path), create=create)
        assert str(path) in str(caught.value)
        assert caught.value.path == str(path)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings


def test_a_truncated_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "graph.db"
    with SQLiteStore.open(str(path)) as store:
        store.add(interactions(400), None)
        store.compact()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    before = _digest(path)
    with pytest.raises(CorruptStoreError, match=r"graph\.db"), SQLiteStore.open(str(path)) as store:
        list(store.iter_interactions())
    assert _digest(path) == before


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "graph.db"
    SQLiteStore.open(str(path)).close()
    conn = SQL.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _digest(path)
    with pytest.raises(CorruptStoreError, match="newer raeburnmemory-sqlite"):
        SQLiteStore.open(str(path))
    assert _digest(path) == before


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "graph.db"
    path.touch()
    with SQLiteStore.open(str(path)) as store:
        store.add(interactions(1), None)
    with SQLiteStore.open(str(path)) as store:
        assert store.count() == 1


def test_older_schemas_are_migrated_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "graph.db"
    with SQLiteStore.open(str(path)) as store:
        store.add(interactions(3), None)

    def add_notes(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes SELECT prompt_id FROM interactions")

    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(_schema._MIGRATIONS, SCHEMA_VERSION, add_notes)
    with SQLiteStore.open(str(path)) as store:
        assert store.count() == 3
    conn = SQL.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 3
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version[0] == str(SCHEMA_VERSION + 1)
    conn.close()
    # a new database is created at the newest version directly
    with SQLiteStore.open(str(tmp_path / "new.db")):
        pass
    conn = SQL.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_a_writer_that_holds_the_lock_too_long_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "graph.db"
    SQLiteStore.open(str(path)).close()
    with SQLiteStore.open(str(path), options={"busy_timeout": 0.2}) as store:
        blocker = SQL.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreLockedError, match=r"graph\.db"):
                store.add(interactions(1), None)
            assert store.count() == 0  # reads go on while a writer holds the lock
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert store.add(interactions(1), None) == ["p0"]


def test_an_hnsw_graph_is_copied_beside_the_database_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("faiss")
    from raeburnmemory.core.faiss_index import FaissIndex
    from raeburnmemory.memory_graph import MemoryGraph

    monkeypatch.setattr(FaissIndex, "copy_from", 0)
    path = tmp_path / "mem.db"
    options: dict[str, Any] = {"storage_backend": "sqlite", "index": "hnsw"}
    with MemoryGraph(path, embedding_model=None, vector_backend="faiss", **options) as memory:
        memory.batch_add(
            {
                "prompt": {"id": f"p{i}", "text": f"question {i} about topic{i}"},
                "response": {"id": f"r{i}", "text": "answer"},
                "agent": {"id": "a"},
                "session_id": "s",
            }
            for i in range(200)
        )
        assert memory.get_similar_prompts("question 42 about topic42", 1) == ["p42"]
    copy = tmp_path / "mem.db.hnsw"
    assert copy.is_file()
    written = copy.stat().st_mtime_ns
    with MemoryGraph(path, embedding_model=None, vector_backend="faiss", **options) as memory:
        assert memory.get_similar_prompts("question 42 about topic42", 1) == ["p42"]
    assert copy.stat().st_mtime_ns == written  # read back, not rebuilt and written again


def test_a_search_need_not_wait_while_another_connection_writes(tmp_path: Path) -> None:
    from raeburnmemory.memory_graph import MemoryGraph

    path = tmp_path / "mem.db"
    with MemoryGraph(path, storage_backend="sqlite", embedding_model=None) as memory:
        memory.add_interaction(
            {"id": "p1", "text": "bake bread"}, {"id": "r1", "text": "ok"}, {"id": "a"}, "s"
        )
        writer = SQL.connect(str(path), isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
            found = memory.search_nowait("bake bread", 1)
            writer.execute("ROLLBACK")
        finally:
            writer.close()
        assert found is not None
        assert [hit.id for hit in found] == ["p1"]
    assert memory.search_nowait("bake bread", 1) is None  # closed
