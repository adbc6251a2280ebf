"""Vector search inside the database with sqlite-vec: exact, filtered, and kept current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.model import EncoderInfo, SearchFilter
from raeburnmemory.core.store import Matrix
from raeburnmemory.core.testing import interaction, interactions, unit_vectors
from raeburnmemory.sqlite import SQLiteStore, _vec

pytest.importorskip("sqlite_vec")

DIM = 32
ENCODER = EncoderInfo("test-encoder", DIM)


def _exact(vectors: Matrix, ids: list[str], query: Matrix, k: int) -> list[str]:
    scores = vectors @ query.reshape(-1)
    order = np.argsort(-scores, kind="stable")[:k]
    return [ids[i] for i in order]


@pytest.fixture
def vec_store(db_path: Path) -> Any:
    with SQLiteStore.open(str(db_path), vector_backend="sqlite-vec") as store:
        store.set_encoder_info(ENCODER)
        yield store


@pytest.fixture(params=["knn", "exact-scan"])
def path_taken(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test through the vec0 KNN and through the exact scan of filtered rows."""
    if request.param == "knn":
        monkeypatch.setattr(_vec, "EXACT_SCAN_ROWS", -1)
    else:
        monkeypatch.setattr(_vec, "EXACT_SCAN_ROWS", 10**9)
        monkeypatch.setattr(_vec, "MAX_K", 0)
    return str(request.param)


def test_results_equal_an_exact_search(vec_store: SQLiteStore, path_taken: str) -> None:
    items = interactions(300, sessions=7, agents=3)
    vectors = unit_vectors(300, DIM, seed=1)
    vec_store.add(items, vectors)
    ids = [i.prompt_id for i in items]
    for q in range(5):
        query = unit_vectors(1, DIM, seed=100 + q)
        hits = vec_store.vector_search(query, 10, SearchFilter())
        assert [pid for pid, _ in hits] == _exact(vectors, ids, query, 10)
        expected = (vectors @ query.reshape(-1))[[ids.index(pid) for pid, _ in hits]]
        np.testing.assert_allclose([s for _, s in hits], expected, atol=1e-5)


def test_filters_run_inside_the_search(vec_store: SQLiteStore, path_taken: str) -> None:
    items = interactions(400, sessions=40, agents=7)
    vectors = unit_vectors(400, DIM, seed=2)
    vec_store.add(items, vectors)
    query = unit_vectors(1, DIM, seed=7)
    flt = SearchFilter(session_id="session-3")
    hits = vec_store.vector_search(query, 8, flt)
    members = [i for i, item in enumerate(items) if item.session_id == "session-3"]
    expected = _exact(vectors[members], [items[i].prompt_id for i in members], query, 8)
    assert [pid for pid, _ in hits] == expected
    both = SearchFilter(session_id="session-9", agent_id="agent-2")
    assert len(vec_store.vector_search(query, 50, both)) == len(
        [i for i in range(400) if i % 40 == 9 and i % 7 == 2]
    )
    start = items[100].payload.timestamp
    window = SearchFilter(since=start, until=start + 9)
    assert sorted(int(pid[1:]) for pid, _ in vec_store.vector_search(query, 20, window)) == list(
        range(100, 110)
    )


def test_deleted_prompts_are_never_found(vec_store: SQLiteStore, path_taken: str) -> None:
    vectors = unit_vectors(50, DIM, seed=4)
    vec_store.add(interactions(50), vectors)
    vec_store.delete(["p3", "p7"])
    found = {pid for pid, _ in vec_store.vector_search(vectors[3:4], 50, SearchFilter())}
    assert len(found) == 48
    assert not found & {"p3", "p7"}


def test_the_table_catches_up_with_adds_and_deletes(vec_store: SQLiteStore) -> None:
    vectors = unit_vectors(40, DIM, seed=12)
    vec_store.add(interactions(20), vectors[:20])
    assert len(vec_store.vector_search(vectors[0:1], 100, SearchFilter())) == 20  # indexed
    vec_store.add(interactions(20, start=20), vectors[20:])  # not indexed yet
    vec_store.delete(["p5", "p25"])  # one indexed, one not
    hits = vec_store.vector_search(vectors[25:26], 100, SearchFilter())
    assert len(hits) == 38
    assert not {pid for pid, _ in hits} & {"p5", "p25"}
    assert vec_store.vector_search(vectors[30:31], 1, SearchFilter())[0][0] == "p30"
    conn, _ = vec_store._conn()
    assert conn.execute(f"SELECT COUNT(*) FROM {_vec.VEC_TABLE}").fetchone()[0] == 38


def test_new_dimensions_rebuild_the_table(vec_store: SQLiteStore) -> None:
    vec_store.add(interactions(20), unit_vectors(20, DIM))
    small = unit_vectors(20, 8, seed=5)
    ids = [f"p{i}" for i in range(20)]
    vec_store.replace_vectors([(ids, small)], EncoderInfo("small", 8))
    hits = vec_store.vector_search(small[11:12], 3, SearchFilter())
    assert hits[0][0] == "p11"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)


def test_a_store_made_without_sqlite_vec_gets_its_table_on_open(db_path: Path) -> None:
    vectors = unit_vectors(30, DIM, seed=6)
    with SQLiteStore.open(str(db_path)) as plain:
        plain.set_encoder_info(ENCODER)
        plain.add(interactions(30), vectors)
    with SQLiteStore.open(str(db_path), vector_backend="sqlite-vec") as store:
        assert store.vector_search(vectors[12:13], 1, SearchFilter())[0][0] == "p12"


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_writers_without_sqlite_vec_mark_the_table_stale(
    vec_store: SQLiteStore, db_path: Path
) -> None:
    vec_store.add(interactions(10), unit_vectors(10, DIM, seed=8))
    code = f"""
import numpy as np
from raeburnmemory.core.testing import interaction, unit_vectors
from raeburnmemory.sqlite import SQLiteStore
from raeburnmemory.sqlite._driver import driver
assert driver().vec is None
with SQLiteStore.open({str(db_path)!r}) as store:
    store.add([interaction(50)], unit_vectors(1, {DIM}, seed=50))
    store.delete(["p2"])
"""
    done = _run(code, RAEBURN_SQLITE_DRIVER="sqlite3")
    assert done.returncode == 0, done.stderr
    query = unit_vectors(1, DIM, seed=50)
    hits = vec_store.vector_search(query, 20, SearchFilter())
    assert hits[0][0] == "p50"
    assert "p2" not in {pid for pid, _ in hits}
    assert len(hits) == 10


def test_sqlite_vec_without_its_extra_names_what_to_install(db_path: Path) -> None:
    code = f"""
from raeburnmemory.core.errors import BackendNotInstalledError
from raeburnmemory.sqlite import SQLiteStore
try:
    SQLiteStore.open({str(db_path)!r}, vector_backend="sqlite-vec")
except BackendNotInstalledError as exc:
    print(exc)
with SQLiteStore.open({str(db_path)!r}) as store:
    print("plain", store.count())
"""
    done = _run(code, RAEBURN_SQLITE_DRIVER="sqlite3")
    assert done.returncode == 0, done.stderr
    assert "raeburnmemory-sqlite[sqlite-vec]" in done.stdout
    assert "plain 0" in done.stdout


def test_several_sqlite_vec_stores_on_one_file_stay_in_step(
    vec_store: SQLiteStore, db_path: Path
) -> None:
    with SQLiteStore.open(str(db_path), vector_backend="sqlite-vec") as other:
        vec_store.add([interaction(1)], unit_vectors(1, DIM, seed=11))
        assert other.vector_search(unit_vectors(1, DIM, seed=11), 1, SearchFilter())[0][0] == "p1"
        other.delete(["p1"])
        assert vec_store.vector_search(unit_vectors(1, DIM, seed=11), 1, SearchFilter()) == []
