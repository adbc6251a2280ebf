"""export --format jsonl and import: what export writes, import reads back (JSONL and JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.json_store import JsonStore


@pytest.fixture
def filled(add_one: Any) -> None:
    add_one(1, session="s1")
    add_one(2, session="s1")
    add_one(3, session="s2", agent="a2")


def _content(store: Any) -> dict[str, Any]:
    stored = store.load_vectors()
    return {
        "interactions": [item.to_dict() for item in store.iter_interactions()],
        "vectors": {pid: stored.vectors[row].tobytes() for row, pid in enumerate(stored.ids)},
        "encoder": store.encoder_info(),
    }


def _store_other_p2(cli: Any, db: Path) -> None:
    """Store prompt ``p2`` with other words than the exported one."""
    cli("--db", db, "add", "--prompt-id", "p2", "--prompt-text", "other words",
        "--response-id", "r2", "--response-text", "x", "--agent-id", "a1",
        "--session-id", "s1").assert_ok()  # fmt: skip


@pytest.mark.usefixtures("filled")
def test_a_jsonl_export_imports_into_another_backend_with_its_vectors(
    cli: Any, db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "memory.jsonl"
    run = cli("--db", db, "export", "--format", "jsonl", "-O", target).assert_ok()
    assert run.stdout == f"exported 3 interactions as jsonl to {target}\n"
    header = json.loads(target.read_text().splitlines()[0])
    assert header["format"] == "raeburnmemory-jsonl"
    sqlite = pytest.importorskip("raeburnmemory.sqlite")
    other = tmp_path / "other.db"
    summary = cli("--db", other, "--backend", "sqlite", "--json", "import", target).assert_ok()
    assert summary.json() | {"file": None} == {
        "file": None, "added": 3, "skipped": 0, "failed": 0, "errors": [],
        "format": "jsonl", "links": 0, "reembedded": False,
    }  # fmt: skip
    with JsonStore.open(str(db)) as first, sqlite.SQLiteStore.open(str(other)) as second:
        assert _content(second) == _content(first)
    again = cli("--db", other, "--backend", "sqlite", "import", target).assert_ok()
    assert again.stdout == f"{target}: 0 added, 3 skipped (stored already)\n"


@pytest.mark.usefixtures("filled")
def test_import_reads_the_node_link_json_export_writes(cli: Any, db: Path, tmp_path: Path) -> None:
    target = tmp_path / "graph-export.json"
    cli("--db", db, "export", "-O", target).assert_ok()
    copy = tmp_path / "copy" / "graph.json"
    run = cli("--db", copy, "--json", "import", target).assert_ok().json()
    assert (run["added"], run["format"], run["reembedded"]) == (3, "node-link", True)
    with JsonStore.open(str(db)) as first, JsonStore.open(str(copy)) as second:
        assert _content(second)["interactions"] == _content(first)["interactions"]


@pytest.mark.usefixtures("filled")
def test_another_model_re_encodes_unless_vectors_must_be_kept(
    cli: Any, db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "memory.jsonl"
    cli("--db", db, "export", "--format", "jsonl", "-O", target).assert_ok()
    small = ("--db", tmp_path / "small.json", "--model", "raeburn-hashing-64")
    cli(*small, "import", "--keep-vectors", target).assert_error(2, "--keep-vectors", "64")
    run = cli(*small, "--json", "import", target).assert_ok().json()
    assert (run["added"], run["reembedded"]) == (3, True)
    with JsonStore.open(str(tmp_path / "small.json")) as store:
        assert store.load_vectors().vectors.shape == (3, 64)
    same = cli("--db", tmp_path / "same.json", "--json", "import", "--reembed", target)
    assert same.assert_ok().json()["reembedded"] is True


@pytest.mark.usefixtures("filled")
def test_a_bad_line_of_an_export_is_named(cli: Any, db: Path, tmp_path: Path) -> None:
    target = tmp_path / "memory.jsonl"
    cli("--db", db, "export", "--format", "jsonl", "-O", target).assert_ok()
    lines = target.read_text().splitlines()
    record = json.loads(lines[2])
    record["vector"] = record["vector"][:-8]
    target.write_text("\n".join([*lines[:2], json.dumps(record), *lines[3:]]) + "\n")
    cli("--db", tmp_path / "copy.json", "import", target).assert_error(
        1, f"{target}:3:", "float32 values", "384 dimensions"
    )


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize(
    ("export_format", "line", "where"),
    [("jsonl", 3, ":3: "), ("json", 2, ": interaction 2: ")],
)
def test_a_conflicting_record_is_reported_and_the_rest_loads(
    cli: Any, db: Path, tmp_path: Path, export_format: str, line: int, where: str
) -> None:
    target = tmp_path / f"memory.{export_format}"
    cli("--db", db, "export", "--format", export_format, "-O", target).assert_ok()
    copy = tmp_path / "copy.json"
    _store_other_p2(cli, copy)
    run = cli("--db", copy, "--json", "import", target)
    assert run.code == 1
    assert (run.json()["added"], run.json()["errors"][0]["line"]) == (2, line)
    assert f"{target}{where}" in run.stderr
    assert cli("--db", copy, "import", "--strict", target).code != 0


@pytest.mark.usefixtures("filled")
def test_jsonl_to_standard_output_and_options_that_do_not_apply(
    cli: Any, db: Path, tmp_path: Path, line: Any
) -> None:
    run = cli("--db", db, "export", "--format", "jsonl", "-O", "-").assert_ok()
    lines = run.lines()
    assert json.loads(lines[0])["interactions"] == 3
    vector = json.loads(lines[1])["vector"]
    assert np.frombuffer(__import__("base64").b64decode(vector), dtype="<f4").shape == (384,)
    cli("--db", db, "export", "--format", "jsonl", "--session", "s1", "-O", "-").assert_error(
        2, "--session"
    )
    records = tmp_path / "records.jsonl"
    records.write_text(line(1) + "\n")
    cli("--db", db, "import", "--reembed", records).assert_error(2, "--reembed")


def test_an_export_header_on_standard_input_is_named(cli: Any, db: Path) -> None:
    header = json.dumps({"format": "raeburnmemory-jsonl", "version": 1})
    run = cli("--db", db, "import", "-", input=header + "\n")
    assert run.code == 1
    assert "<stdin>:1: the header of a JSON Lines export" in run.stderr
