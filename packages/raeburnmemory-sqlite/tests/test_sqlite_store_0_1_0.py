"""SQLite stores written by raeburnmemory 0.1.0 open and work unchanged; newer ones are refused.

``fixtures/stores_0_1_0`` holds two databases written by 0.1.0 (gzip-compressed), one without and
one with its sqlite-vec table, made by ``make_stores_0_1_0.py`` in raeburnmemory-core's test
fixtures; ``expected.json`` holds what they contain (vectors as base64 of little-endian float32).
Each test works on a decompressed copy.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import sqlite3
from pathlib import Path

import pytest

from raeburnmemory.core import CorruptStoreError
from raeburnmemory.core.encoders import resolve_encoder
from raeburnmemory.core.testing.kept_stores import assert_holds, describe, expected_in
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.sqlite import SCHEMA_VERSION, SQLiteStore
from raeburnmemory.sqlite._driver import driver

FIXTURES = Path(__file__).parent / "fixtures" / "stores_0_1_0"
EXPECTED = expected_in(FIXTURES)
HAS_VEC = importlib.util.find_spec("sqlite_vec") is not None
needs_vec = pytest.mark.skipif(not HAS_VEC, reason="sqlite-vec is not installed")
# (fixture, vector backend to open it with)
WAYS = [
    ("sqlite", None),
    pytest.param("sqlite", "sqlite-vec", marks=needs_vec),
    ("sqlite-vec", None),
    pytest.param("sqlite-vec", "sqlite-vec", marks=needs_vec),
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


@pytest.mark.parametrize(("name", "backend"), WAYS)
def test_the_store_class_reads_every_field_as_written(
    name: str, backend: str | None, tmp_path: Path
) -> None:
    store = SQLiteStore.open(str(copy_of(name, tmp_path)), create=False, vector_backend=backend)
    try:
        assert_holds(store, EXPECTED)
    finally:
        store.close()


@pytest.mark.parametrize(("name", "backend"), WAYS)
def test_memory_graph_opens_reads_and_searches(
    name: str, backend: str | None, tmp_path: Path
) -> None:
    with graph_of(copy_of(name, tmp_path), backend) as memory:
        assert memory.encoder_name == EXPECTED["encoder"]["name"]  # the one the store recorded
        assert_holds(memory.store, EXPECTED)
        for item in EXPECTED["interactions"]:
            assert memory.get_interaction(item["prompt_id"]).to_dict() == item
            hits = memory.search(item["prompt_text"], 1)
            assert [hit.id for hit in hits] == [item["prompt_id"]]
            assert hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert memory.sessions() == list(EXPECTED["sessions"])
        for session_id, prompt_ids in EXPECTED["sessions"].items():
            assert [i.prompt_id for i in memory.get_session(session_id)] == prompt_ids
        kitchen = memory.search("sourdough bread", 5, session_id="kitchen")
        assert {hit.session_id for hit in kitchen} == {"kitchen"}
        keyword = memory.search("sourdough", 2, mode="keyword")
        assert {hit.id for hit in keyword} == {"p01", "p11"}
        stats = memory.stats()
        assert (stats["interactions"], stats["sessions"], stats["agents"], stats["links"]) == (
            len(EXPECTED["interactions"]),
            len(EXPECTED["sessions"]),
            len(EXPECTED["agents"]),
            len(EXPECTED["links"]),
        )


@pytest.mark.parametrize(("name", "backend"), WAYS)
def test_a_new_write_is_kept_beside_the_old_records(
    name: str, backend: str | None, tmp_path: Path
) -> None:
    path = copy_of(name, tmp_path)
    with graph_of(path, backend) as memory:
        memory.add_interaction(
            {"id": "p15", "text": "Knead the dough again? Ça dépend."},
            {"id": "r15", "text": "Only briefly."},
            {"id": "agent-böb"},
            "kitchen",
            metadata={"new": True},
            timestamp="2026-02-01T00:00:00+00:00",
        )
        memory.link_prompts("p15", "p01", "related_to")
    with graph_of(path, backend) as memory:
        added = memory.get_interaction("p15")
        assert (added.prompt_text, added.agent_id, dict(added.metadata)) == (
            "Knead the dough again? Ça dépend.",
            "agent-böb",
            {"new": True},
        )
        found = describe(memory.store, EXPECTED)
        assert found["interactions"] == [*EXPECTED["interactions"], added.to_dict()]
        assert found["sessions"]["kitchen"] == [*EXPECTED["sessions"]["kitchen"], "p15"]
        assert found["links"] == sorted([*EXPECTED["links"], ["p15", "p01", "related_to"]])
        vector = resolve_encoder(EXPECTED["encoder"]["name"]).encode([added.prompt_text])[0]
        assert found["vectors"].pop("p15") == base64.b64encode(vector.astype("<f4")).decode()
        assert found["vectors"] == EXPECTED["vectors"]
        assert [hit.id for hit in memory.search(added.prompt_text, 1)] == ["p15"]
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


@pytest.mark.parametrize(("name", "backend"), WAYS)
def test_a_migrated_store_takes_prompts_without_responses(
    name: str, backend: str | None, tmp_path: Path
) -> None:
    path = copy_of(name, tmp_path)
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
