"""The installed console script and ``python -m raeburnmemory.cli`` in real subprocesses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

SCRIPT = Path(sys.executable).with_name("raeburnmemory")


MODULE = [sys.executable, "-m", "raeburnmemory.cli"]


@pytest.fixture
def command() -> list[str]:
    """The installed console script."""
    if not SCRIPT.exists():
        pytest.skip("the console script is not installed beside this Python")
    return [str(SCRIPT)]


def test_version_from_the_script_and_help_from_the_module(command: list[str], process: Any) -> None:
    version = process([*command, "--version"]).assert_ok()
    assert version.lines()[0].startswith("raeburnmemory ")
    assert "raeburnmemory-cli" in version.stdout
    usage = process([*MODULE, "--help"]).assert_ok()
    assert "similar" in usage.stdout


def test_add_search_and_json_through_a_real_process(
    command: list[str], process: Any, db: Path
) -> None:
    base = [*command, "--db", str(db)]
    process([
        *base, "add", "--prompt-id", "p1", "--prompt-text", "Hello?", "--response-id", "r1",
        "--response-text", "Hi!", "--agent-id", "a1", "--agent-name", "Greeter",
        "--session-id", "s1",
    ]).assert_ok()  # fmt: skip
    found = process([*base, "--json", "similar", "--text", "Hello"]).assert_ok()
    assert json.loads(found.stdout)["ids"] == ["p1"]
    plain = process([*base, "similar", "--text", "Hello"]).assert_ok()
    assert plain.stdout.split("\t")[0] == "p1"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["similar", "--text", "x"], 1, "graph.json"),
        (["--backend", "nope", "stats"], 2, "--backend"),
    ],
)
def test_errors_are_one_line_and_an_exit_status(
    command: list[str], process: Any, db: Path, args: list[str], code: int, fragment: str
) -> None:
    process([*command, "--db", str(db), *args]).assert_error(code, fragment)


def test_a_usage_error_through_python_m(process: Any, db: Path) -> None:
    process([*MODULE, "--db", str(db), "show"]).assert_error(2, "PROMPT_ID")


def test_a_corrupt_store_in_a_real_process(command: list[str], process: Any, db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_text("this is not json")
    process([*command, "--db", str(db), "stats"]).assert_error(1, str(db))
    assert db.read_text() == "this is not json"


def test_the_demo_runs_offline_through_python_m(process: Any, tmp_path: Path) -> None:
    run = process([*MODULE, "--db", str(tmp_path / "demo" / "graph.json"), "demo"])
    run.assert_ok()
    assert run.lines()[0].startswith("recorded 8 interactions")
    assert "Traceback" not in run.stderr
