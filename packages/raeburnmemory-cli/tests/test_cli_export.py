"""export: node-link JSON and GraphML files, one session, standard output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.testing.export_contract import fingerprint

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow


@pytest.fixture
def filled(add_one: Any) -> None:
    add_one(1, session="s1")
    add_one(2, session="s1")
    add_one(3, session="s2", agent="a2")


@pytest.mark.usefixtures("filled")
def test_export_json_writes_node_link_data(cli: Any, db: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "deep" / "graph-export.json"
    run = cli("--db", db, "export", "--output", target).assert_ok()
    assert run.stdout == f"exported 3 interactions as json to {target}\n"
    data = json.loads(target.read_text())
    kinds = [node["kind"] for node in data["nodes"]]
    assert kinds.count("prompt") == 3
    assert kinds.count("session") == 2
    assert kinds.count("agent") == 2
    relations = {edge["relation"] for edge in data["edges"]}
    assert {"responded_with", "generated_by", "belongs_to", "followed_by"} <= relations
    assert not list(target.parent.glob(".*.tmp"))


@pytest.mark.usefixtures("filled")
def test_export_graphml_opens_in_networkx(cli: Any, db: Path, tmp_path: Path) -> None:
    nx = pytest.importorskip("networkx")
    target = tmp_path / "graph.graphml"
    data = cli(
        "--db", db, "--json", "export", "--output", target, "--format", "graphml"
    ).assert_ok().json()  # fmt: skip
    graph = nx.read_graphml(target)
    assert data == {
        "output": str(target),
        "format": "graphml",
        "interactions": 3,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }
    assert graph.nodes["prompt:p1"]["text"] == "question 1 about the topic 1"
    assert json.loads(graph.nodes["prompt:p1"]["metadata"]) == {}
    assert graph.edges["prompt:p1", "prompt:p2"]["relation"] == "followed_by"


@pytest.mark.usefixtures("filled")
def test_export_one_session_to_standard_output(cli: Any, db: Path) -> None:
    run = cli("--db", db, "export", "--output", "-", "--session", "s2").assert_ok()
    data = json.loads(run.stdout)
    prompts = [node["key"] for node in data["nodes"] if node["kind"] == "prompt"]
    assert prompts == ["p3"]
    cli("--db", db, "export", "--output", "-", "--session", "s9").assert_error(1, "'s9'")


@pytest.mark.usefixtures("filled")
def test_export_needs_output_and_a_known_format(cli: Any, db: Path) -> None:
    cli("--db", db, "export").assert_error(2, "--output")
    cli("--db", db, "export", "--output", "x", "--format", "csv").assert_error(2, "'--format'")
    assert not Path("x").exists()


@pytest.mark.usefixtures("filled")
def test_export_into_a_folder_path_is_one_line(cli: Any, db: Path, tmp_path: Path) -> None:
    cli("--db", db, "export", "--output", tmp_path).assert_error(1, str(tmp_path))


MODULE = [sys.executable, "-m", "raeburnmemory.cli"]


@pytest.mark.usefixtures("filled")
def test_export_onto_any_file_of_the_store_is_refused(
    cli: Any, process: Any, db: Path, tmp_path: Path
) -> None:
    files = sorted(path for path in db.parent.iterdir() if path.is_file())
    assert {db, Path(f"{db}.journal"), Path(f"{db}.lock")} <= set(files)
    link = tmp_path / "link.json"
    link.symlink_to(db)
    before = fingerprint(db.parent)
    run = process([*MODULE, "--db", str(db), "export", "--output", str(db), "--force"])
    run.assert_error(2, f"{db}: this is a file of the store", "nothing was written")
    for target in [*files, link, db.parent / ".." / db.parent.name / db.name]:
        run = cli("--db", db, "export", "--output", target, "--force")
        run.assert_error(2, str(target), "a file of the store", "nothing was written")
    assert fingerprint(db.parent) == before
    assert link.is_symlink()
    assert cli("--db", db, "--json", "stats").assert_ok().json()["interactions"] == 3


def test_export_onto_the_sqlite_database_is_refused(cli: Any, process: Any, tmp_path: Path) -> None:
    pytest.importorskip("raeburnmemory.sqlite")
    db = tmp_path / "m.db"
    cli("--backend", "sqlite", "--db", db, "add", "--prompt-id", "p1", "--prompt-text", "Hello?",
        "--response-id", "r1", "--response-text", "Hi!", "--agent-id", "a1",
        "--session-id", "s1").assert_ok()  # fmt: skip
    sqlite = [*MODULE, "--backend", "sqlite", "--db", str(db)]
    process([*sqlite, "export", "--output", str(db), "--force"]).assert_error(
        2, "a file of the store"
    )
    for target in (Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")):
        cli("--backend", "sqlite", "--db", db, "export", "--output", target).assert_error(
            2, "a file of the store"
        )
    assert db.read_bytes().startswith(b"SQLite format 3\x00")
    assert not Path(f"{db}-journal").exists()
    stats = cli("--backend", "sqlite", "--db", db, "--json", "stats").assert_ok().json()
    assert stats["interactions"] == 1


@pytest.mark.usefixtures("filled")
def test_an_existing_file_is_replaced_only_with_force(
    cli: Any, process: Any, db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "graph-export.json"
    target.write_text("keep me")
    run = process([*MODULE, "--db", str(db), "export", "--output", str(target)])
    run.assert_error(2, f"{target} exists already", "--force")
    assert target.read_text() == "keep me"
    cli("--db", db, "export", "--output", target, "--force").assert_ok()
    assert len([n for n in json.loads(target.read_text())["nodes"] if n["kind"] == "prompt"]) == 3
    notes = tmp_path / "notes.txt"
    notes.write_text("not an export")
    link = tmp_path / "link.json"
    link.symlink_to(notes)
    cli("--db", db, "export", "--output", link).assert_error(2, "exists already")
    cli("--db", db, "export", "--output", link, "--force").assert_ok()
    assert not link.is_symlink()
    assert notes.read_text() == "not an export"
    written = sorted(p.name for p in tmp_path.glob("*.*"))
    assert written == ["graph-export.json", "link.json", "notes.txt"]


# ``python -m raeburnmemory.cli`` with files limited to 1 KiB: a write past that fails (EFBIG).
LIMITED_MODULE = [
    sys.executable,
    "-c",
    "import resource, runpy; resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024)); "
    "runpy.run_module('raeburnmemory.cli', run_name='__main__', alter_sys=True)",
]


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.usefixtures("filled")
def test_a_write_failure_names_the_file_and_leaves_nothing(
    process: Any, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "graph-export.json"
    run = process([*LIMITED_MODULE, "--db", str(db), "export", "--output", str(target)])
    run.assert_error(1, f"{target}: cannot write the export: File too large")
    assert list(out.iterdir()) == []
