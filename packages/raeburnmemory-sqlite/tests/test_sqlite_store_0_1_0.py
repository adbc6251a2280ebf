"""SQLite stores written by raeburnmemory 0.1.0 open and work unchanged; newer ones are refused.

``fixtures/stores_0_1_0`` holds two databases written by 0.1.0 (gzip-compressed), one without and
one with its sqlite-vec table, made by ``make_stores_0_1_0.py`` in raeburnmemory-core's test
fixtures; ``expected.json`` holds what they contain (vectors as base64 of little-endian float32).
Each test works on a decompressed copy.
"""

from __future__ import annotations

import gzip
import importlib.util
import sqlite3
from pathlib import Path

import pytest

from raeburnmemory.core import CorruptStoreError
from raeburnmemory.core.testing import kept_stores
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.sqlite import SCHEMA_VERSION, SQLiteStore
from raeburnmemory.sqlite._driver import driver

FIXTURES = Path(__file__).parent / "fixtures" / "stores_0_1_0"
EXPECTED = kept_stores.expected_in(FIXTURES)
HAS_VEC = importlib.util.find_spec("sqlite_vec") is not None
needs_vec = pytest.mark.skipif(not HAS_VEC, reason="sqlite-vec is not installed")
# (fixture, vector backend to open it with)
WAYS = [
    pytest.param(("sqlite", None), id="sqlite-None"),
    pytest.param(("sqlite", "sqlite-vec"), marks=needs_vec, id="sqlite-sqlite-vec"),
    pytest.param(("sqlite-vec", None), id="sqlite-vec-None"),
    pytest.param(("sqlite-vec", "sqlite-vec"), marks=needs_vec, id="sqlite-vec-sqlite-vec"),
]


def copy_of(name: str, tmp_path: Path) -> Path:
    """The fixture database ``name`` decompressed into ``tmp_path``."""
    path = tmp_path / "memory" / "graph.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.decompress((FIXTURES / f"{name}.db.gz").read_bytes()))
    return path


def graph_of(path: Path, vector_backend: str | None) -> MemoryGraph:
    """A MemoryGraph on an existing database."""
    return MemoryGraph(path, storage_backend="sqlite", vector_backend=vector_backend, create=False)


@pytest.fixture(params=WAYS)
def way(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str | None]:
    """A copy of a fixture database, and the vector backend to open it with."""
    name, backend = request.param
    return copy_of(name, tmp_path), backend


def test_the_store_class_reads_every_field_as_written(way: tuple[Path, str | None]) -> None:
    path, backend = way
    store = SQLiteStore.open(str(path), create=False, vector_backend=backend)
    try:
        kept_stores.assert_holds(store, EXPECTED)
    finally:
        store.close()


def test_memory_graph_opens_reads_and_searches(way: tuple[Path, str | None]) -> None:
    path, backend = way
    with graph_of(path, backend) as memory:
        kept_stores.assert_reads_and_searches(memory, EXPECTED)


def test_a_new_write_is_kept_beside_the_old_records(way: tuple[Path, str | None]) -> None:
    path, backend = way
    with graph_of(path, backend) as memory:
        kept_stores.write_beside(memory)
    with graph_of(path, backend) as memory:
        kept_stores.assert_written_beside(memory, EXPECTED)
        assert [hit.id for hit in memory.search("dépend", 1, mode="keyword")] == ["p15"]


def test_the_fixtures_are_at_the_schema_version_0_1_0_wrote(tmp_path: Path) -> None:
    for name in ("sqlite", "sqlite-vec"):
        with sqlite3.connect(copy_of(name, tmp_path / name)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (1,)
        conn.close()
    assert SCHEMA_VERSION >= 1


def newer_copy(name: str, tmp_path: Path) -> Path:
    """A copy of a fixture database marked as written by the next schema version."""
    path = copy_of(name, tmp_path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    conn.close()
    assert [p.name for p in path.parent.iterdir()] == ["graph.db"]
    return path


def refuse(path: Path) -> None:
    """Open ``path`` each way: every one is refused, naming the file and both versions."""
    for backend in (None, "sqlite-vec") if HAS_VEC else (None,):
        with pytest.raises(CorruptStoreError) as caught:
            graph_of(path, backend).close()
        message = str(caught.value)
        assert str(path) in message
        assert f"schema version {SCHEMA_VERSION + 1}" in message
        assert f"up to {SCHEMA_VERSION}" in message
    with pytest.raises(CorruptStoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        SQLiteStore.open(str(path), create=False)


@pytest.mark.parametrize("name", ["sqlite", "sqlite-vec"])
def test_a_database_of_a_newer_schema_is_refused_and_not_rewritten(
    name: str, tmp_path: Path
) -> None:
    path = newer_copy(name, tmp_path)
    before = path.read_bytes()
    refuse(path)
    assert path.read_bytes() == before


def test_a_refused_database_gets_no_file_beside_it(tmp_path: Path) -> None:
    path = newer_copy("sqlite", tmp_path)
    refuse(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["graph.db"]


def test_a_newer_schema_still_in_the_write_ahead_log_is_refused(tmp_path: Path) -> None:
    path = copy_of("sqlite", tmp_path)
    module = driver().module  # the store's own SQLite library: one copy of its locks
    writer = module.connect(str(path), isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # the change stays in graph.db-wal
        assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        assert (path.parent / "graph.db-wal").stat().st_size > 0
        refuse(path)  # the database file alone still says schema version 1
    finally:
        writer.close()


def test_a_migrated_store_takes_prompts_without_responses(way: tuple[Path, str | None]) -> None:
    path, backend = way
    with graph_of(path, backend) as memory:
        note = memory.add_interaction("sourdough starter smells of acetone", session_id="kitchen")
        memory.delete_interaction("p01")  # a row indexed for keywords before the migration
        found = {hit.id for hit in memory.search("sourdough", 3, mode="keyword")}
        assert found == {"p11", note}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    with graph_of(path, backend) as memory:
        stored = memory.get_interaction(note)
        assert (stored.response_id, stored.response_text) == (None, None)
        assert [hit.id for hit in memory.search(stored.prompt_text, 1)] == [note]
        kept = [item for item in EXPECTED["interactions"] if item["prompt_id"] != "p01"]
        assert [memory.get_interaction(i["prompt_id"]).to_dict() for i in kept] == kept
        assert memory.get_session("kitchen")[-1].prompt_id == note
        again = memory.add_interaction("one more", "reply")
        assert memory.get_interaction(again).response_text == "reply"
