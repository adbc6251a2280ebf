"""``--on-conflict error|skip|replace`` on ``add`` and ``import``, and ``similar --where``, in
real processes of the installed command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.memory_graph import MemoryGraph

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

SCRIPT = Path(sys.executable).with_name("raeburnmemory")
ADD = [
    "add", "--prompt-id", "p1", "--prompt-text", "how do I bake bread",
    "--response-id", "r1", "--agent-id", "a1", "--session-id", "s1",
    "--timestamp", "2026-01-02T10:00:00Z",
]  # fmt: skip


@pytest.fixture
def run(process: Any, db: Path) -> Any:
    """``run("add", ...)``: the installed command on the test store."""
    if not SCRIPT.exists():
        pytest.skip("the console script is not installed beside this Python")
    return lambda *args: process([str(SCRIPT), "--db", str(db), *args])


def _response(db: Path, prompt_id: str = "p1") -> str:
    with MemoryGraph(db, embedding_model=None) as memory:
        return memory.get_interaction(prompt_id).response_text


def test_add_on_conflict(run: Any, db: Path) -> None:
    run(*ADD, "--response-text", "with flour").assert_ok()
    run(*ADD, "--response-text", "with yeast").assert_error(1, "'p1'", "different content")
    run(*ADD, "--response-text", "with yeast", "--on-conflict", "error").assert_error(1, "'p1'")
    kept = run(*ADD, "--response-text", "with yeast", "--on-conflict", "skip").assert_ok()
    assert kept.stdout == "p1 is stored already; kept as it is\n"
    assert _response(db) == "with flour"
    stored = run(*ADD, "--response-text", "with yeast", "--on-conflict", "REPLACE").assert_ok()
    assert stored.stdout == "stored p1\n"
    assert _response(db) == "with yeast"
    run(*ADD, "--response-text", "x", "--on-conflict", "maybe").assert_error(2, "--on-conflict")


def _lines(path: Path, answer: str) -> Path:
    records = [
        {
            "prompt": {"id": f"p{i}", "text": f"question {i}"},
            "response": {"id": f"r{i}", "text": answer if i == 2 else f"answer {i}"},
            "agent": {"id": "a1"},
            "session_id": "s1",
            "timestamp": f"2026-01-02T10:0{i}:00Z",
        }
        for i in range(1, 4)
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


@pytest.mark.parametrize("strict", [[], ["--strict"]], ids=["batches", "strict"])
def test_import_on_conflict(run: Any, db: Path, tmp_path: Path, strict: list[str]) -> None:
    first = _lines(tmp_path / "first.jsonl", "answer 2")
    other = _lines(tmp_path / "other.jsonl", "a better answer")
    run("import", first).assert_ok()
    run("import", *strict, other).assert_error(1, "other.jsonl:2", "'p2'")
    skipped = run("--json", "import", *strict, other, "--on-conflict", "skip").assert_ok().json()
    assert (skipped["added"], skipped["skipped"], skipped["failed"]) == (0, 3, 0)
    assert _response(db, "p2") == "answer 2"
    replaced = run("import", *strict, other, "--on-conflict", "replace").assert_ok()
    assert replaced.stdout.startswith(f"{other}: 1 added or replaced, 2 skipped")
    assert _response(db, "p2") == "a better answer"


def test_import_of_an_export_file_on_conflict(run: Any, db: Path, tmp_path: Path) -> None:
    run("import", _lines(tmp_path / "first.jsonl", "answer 2")).assert_ok()
    exported = tmp_path / "memory.jsonl"
    run("export", "--format", "jsonl", "-O", exported).assert_ok()
    run("update", "p2", "--response", "changed here").assert_ok()
    run("import", exported).assert_error(1, "'p2'")
    skipped = run("--json", "import", exported, "--on-conflict", "skip").assert_ok().json()
    assert (skipped["added"], skipped["skipped"], skipped["failed"]) == (0, 3, 0)
    assert _response(db, "p2") == "changed here"
    run("import", exported, "--on-conflict", "replace").assert_error(2, "--on-conflict")


def test_similar_where_keeps_only_matching_metadata(run: Any, db: Path) -> None:
    for n, text in enumerate(["bake bread", "bake bread at home", "bake a cake"]):
        meta = json.dumps({"n": n, "user": "ana" if n else "bo"})
        run(
            "add", "--prompt-id", f"p{n}", "--prompt-text", text, "--response-id", f"r{n}",
            "--response-text", "ok", "--agent-id", "a1", "--session-id", "s1",
            "--metadata", meta,
        ).assert_ok()  # fmt: skip
    found = run("--json", "similar", "bake bread", "--where", '{"user": "ana"}').assert_ok()
    assert found.json()["ids"] == ["p1", "p2"]
    none = run("--json", "similar", "bake bread", "--where", '{"n": {"$gt": 5}}').assert_ok()
    assert none.json()["ids"] == []


@pytest.mark.parametrize(
    ("where", "fragment"),
    [("{oops", "not valid JSON"), ('"ana"', "JSON object"), ('{"$nor": []}', "$nor")],
)
def test_similar_refuses_a_bad_where_before_opening_anything(
    run: Any, db: Path, where: str, fragment: str
) -> None:
    run("similar", "bake", "--where", where).assert_error(2, "--where", fragment)
    assert not db.parent.exists()
