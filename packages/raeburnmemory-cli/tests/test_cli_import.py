"""import: JSON Lines in batches, a summary, idempotent, bad lines reported, --strict."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_import_loads_every_line_in_batches_and_again_adds_nothing(
    cli: Any, db: Path, tmp_path: Path, line: Any
) -> None:
    source = write(tmp_path / "data.jsonl", [line(n, session=f"s{n % 2}") for n in range(25)])
    run = cli("--db", db, "import", source, "--batch-size", "4").assert_ok()
    assert run.stdout == f"{source}: 25 added, 0 skipped (stored already)\n"
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 25
    again = cli("--db", db, "--json", "import", source, "--batch-size", "7").assert_ok().json()
    assert again == {"file": str(source), "added": 0, "skipped": 25, "failed": 0, "errors": []}
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 25
    assert cli("--db", db, "--json", "similar", "--text", "question 7").json()["ids"][0] == "p7"


def test_a_bad_line_is_reported_with_its_number_and_the_rest_loads(
    cli: Any, db: Path, tmp_path: Path, line: Any
) -> None:
    source = write(
        tmp_path / "mixed.jsonl",
        [
            line(1),
            "{broken json",
            "",
            line(2, metadata=[1]),
            line(3),
            line(1, prompt={"id": "p1", "text": "other content"}),
        ],
    )
    run = cli("--db", db, "--json", "import", source, "--batch-size", "10")
    assert run.code == 1
    errors = run.stderr.strip().splitlines()
    assert errors[0].startswith(f"raeburnmemory: error: {source}:2: not valid JSON")
    assert errors[1].startswith(f"raeburnmemory: error: {source}:4: metadata must be a dict")
    assert errors[2].startswith(f"raeburnmemory: error: {source}:6: ")
    assert "p1" in errors[2]
    assert len(errors) == 3
    report = run.json()
    assert report["added"] == 2
    assert report["failed"] == 3
    assert [error["line"] for error in report["errors"]] == [2, 4, 6]
    assert cli("--db", db, "--json", "history", "--session", "s1").json()[0]["prompt_text"] == (
        "question 1 about the topic 1"
    )
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 2


def test_strict_writes_nothing_when_a_line_is_bad(
    cli: Any, db: Path, tmp_path: Path, line: Any
) -> None:
    source = write(tmp_path / "bad.jsonl", [line(1), line(2), '{"prompt": 1}'])
    run = cli("--db", db, "import", source, "--strict")
    assert run.code == 1
    assert f"{source}:3:" in run.stderr
    assert "nothing was written" in run.stdout
    assert not db.parent.exists()


def test_strict_finds_conflicts_with_the_store_and_within_the_file(
    cli: Any, db: Path, tmp_path: Path, line: Any, add_one: Any
) -> None:
    add_one(1)
    source = write(
        tmp_path / "conflicts.jsonl",
        [
            line(2),
            line(1, response={"id": "r1", "text": "a different answer"}),
            line(3),
            line(3, session_id="elsewhere"),
        ],
    )
    run = cli("--db", db, "--json", "import", source, "--strict")
    assert run.code == 1
    report = run.json()
    assert report["written"] is False
    assert [error["line"] for error in report["errors"]] == [2, 4]
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 1


def test_strict_loads_a_good_file(cli: Any, db: Path, tmp_path: Path, line: Any) -> None:
    source = write(tmp_path / "good.jsonl", [line(n) for n in range(5)])
    cli("--db", db, "import", "--strict", source).assert_ok()
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 5


def test_the_flat_shape_round_trips_through_show(
    cli: Any, db: Path, tmp_path: Path, add_one: Any
) -> None:
    add_one(1)
    add_one(2, session="s2")
    flat = [json.dumps(cli("--db", db, "--json", "show", pid).json()) for pid in ("p1", "p2")]
    other = tmp_path / "copy" / "graph.json"
    source = write(tmp_path / "flat.jsonl", flat)
    cli("--db", other, "import", source).assert_ok()
    for pid in ("p1", "p2"):
        original = cli("--db", db, "--json", "show", pid).json()
        assert cli("--db", other, "--json", "show", pid).json() == original


def test_import_from_standard_input(cli: Any, db: Path, line: Any) -> None:
    text = "".join(line(n) + "\n" for n in range(3))
    run = cli("--db", db, "import", "-", input=text).assert_ok()
    assert run.stdout == "<stdin>: 3 added, 0 skipped (stored already)\n"


def test_import_of_a_missing_file_or_a_folder(cli: Any, db: Path, tmp_path: Path) -> None:
    cli("--db", db, "import", tmp_path / "nope.jsonl").assert_error(1, "nope.jsonl")
    cli("--db", db, "import", tmp_path).assert_error(1, "is a directory")
    assert not db.parent.exists()


def test_import_of_bytes_that_are_not_utf8(cli: Any, db: Path, tmp_path: Path, line: Any) -> None:
    source = tmp_path / "latin.jsonl"
    source.write_bytes(line(1).encode() + b"\n\xff\xfe\xfd\n" + line(2).encode() + b"\n")
    run = cli("--db", db, "import", source)
    assert run.code == 1
    assert f"{source}:2: not UTF-8 text" in run.stderr
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 2


def test_a_terminal_sees_progress_bars(cli: Any, db: Path, tmp_path: Path, line: Any) -> None:
    source = write(tmp_path / "many.jsonl", [line(n) for n in range(600)])
    run = cli("--db", db, "import", source, TTY_COMPATIBLE="1").assert_ok()
    assert "importing" in run.stderr
    assert "━" in run.stderr
    assert run.stdout == f"{source}: 600 added, 0 skipped (stored already)\n"
    reindexed = cli("--db", db, "reindex", TTY_COMPATIBLE="1").assert_ok()
    assert "re-embedding prompts" in reindexed.stderr
    assert reindexed.stdout == "re-embedded 600 prompts with raeburn-hashing-384\n"


def test_strict_creates_no_store_for_a_file_that_contradicts_itself(
    cli: Any, db: Path, tmp_path: Path, line: Any
) -> None:
    source = write(tmp_path / "twice.jsonl", [line(1), line(1, session_id="s9")])
    run = cli("--db", db, "import", "--strict", source)
    assert run.code == 1
    assert f"{source}:2: prompt 'p1' has other content on line 1" in run.stderr
    assert not db.parent.exists()


IMPORT = [sys.executable, "-m", "raeburnmemory.cli"]
#: More lines than the library encodes at once.
MANY = 2100


@pytest.mark.parametrize("backend", ["json", "sqlite"])
def test_a_batch_larger_than_a_chunk_is_all_or_nothing_in_a_real_process(
    process: Any, db: Path, tmp_path: Path, line: Any, backend: str
) -> None:
    pytest.importorskip(f"raeburnmemory.{backend}" if backend != "json" else "raeburnmemory.core")
    store = ["--backend", backend, "--db", str(db)]
    first = write(tmp_path / "first.jsonl", [line(0)])
    process([*IMPORT, *store, "import", str(first)]).assert_ok()
    many = [line(n) for n in range(10, 10 + MANY)]
    clash = line(0, prompt={"id": "p0", "text": "other content"})  # in the batch's last chunk
    source = write(tmp_path / "many.jsonl", [*many, clash])
    run = process([*IMPORT, *store, "--json", "import", str(source), "--batch-size", "5000"])
    assert run.code == 1
    report = run.json()
    assert (report["added"], report["skipped"]) == (MANY, 0)
    assert [error["line"] for error in report["errors"]] == [MANY + 1]
    stats = process([*IMPORT, *store, "--json", "stats"]).assert_ok().json()
    assert stats["interactions"] == MANY + 1


def test_strict_writes_nothing_when_the_store_refuses_a_late_line(
    process: Any, db: Path, tmp_path: Path, line: Any
) -> None:
    first = write(tmp_path / "first.jsonl", [line(0)])
    process([*IMPORT, "--db", str(db), "import", str(first)]).assert_ok()
    many = [line(n) for n in range(10, 10 + MANY)]
    thief = line(9000, response={"id": "r0", "text": "a response the store gives to p0"})
    source = write(tmp_path / "many.jsonl", [*many, thief])
    run = process([*IMPORT, "--db", str(db), "--json", "import", str(source), "--strict"])
    assert run.code == 1
    report = run.json()
    assert report["written"] is False
    assert [error["line"] for error in report["errors"]] == [MANY + 1]
    assert "r0" in report["errors"][0]["error"]
    stats = process([*IMPORT, "--db", str(db), "--json", "stats"]).assert_ok().json()
    assert stats["interactions"] == 1


def test_strict_finds_a_response_id_given_to_two_prompts(
    cli: Any, db: Path, tmp_path: Path, line: Any
) -> None:
    source = write(
        tmp_path / "shared.jsonl", [line(1), line(2, response={"id": "r1", "text": "shared"})]
    )
    run = cli("--db", db, "import", "--strict", source)
    assert run.code == 1
    assert f"{source}:2: response 'r1' belongs to prompt 'p1' on line 1" in run.stderr
    assert not db.parent.exists()
