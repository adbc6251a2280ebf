"""add, show, history and delete through the Typer runner, in plain lines and in JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def test_add_creates_the_store_folder_and_show_reads_it_back(cli: Any, db: Path) -> None:
    assert not db.parent.exists()
    run = cli(
        "--db", db, "add",
        "--prompt-id", "p1", "--prompt-text", "Hello?",
        "--response-id", "r1", "--response-text", "Hi!",
        "--agent-id", "a1", "--agent-name", "Greeter",
        "--session-id", "s1",
        "--metadata", '{"lang": "en", "n": 1}',
        "--timestamp", "2025-01-06T09:00:00Z",
    ).assert_ok()  # fmt: skip
    assert run.stdout == "added p1\n"
    assert db.parent.is_dir()
    shown = cli("--db", db, "show", "p1").assert_ok()
    assert shown.lines() == [
        "prompt_id: p1",
        "session_id: s1",
        "timestamp: 2025-01-06T09:00:00+00:00",
        "agent: a1 (Greeter)",
        "prompt_text: Hello?",
        "response_id: r1",
        "response_text: Hi!",
        'metadata: {"lang": "en", "n": 1}',
    ]
    data = cli("--db", db, "--json", "show", "p1").assert_ok().json()
    assert data["prompt_id"] == "p1"
    assert data["agent_name"] == "Greeter"
    assert data["metadata"] == {"lang": "en", "n": 1}
    assert data["timestamp"] == "2025-01-06T09:00:00+00:00"


def test_adding_the_same_interaction_twice_changes_nothing(
    cli: Any, db: Path, add_one: Any
) -> None:
    assert add_one(1).stdout == "added p1\n"
    again = add_one(1)
    assert "stored already" in again.stdout
    args = [
        "--db", db, "--json", "add", "--prompt-id", "p1",
        "--prompt-text", "question 1 about the topic 1", "--response-id", "r1",
        "--response-text", "answer 1", "--agent-id", "a1", "--session-id", "s1",
    ]  # fmt: skip
    data = cli(*args).assert_ok().json()
    assert data["added"] is False
    assert data["prompt_id"] == "p1"
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 1


def test_the_same_id_with_other_content_is_a_conflict(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    run = cli(
        "--db", db, "add", "--prompt-id", "p1", "--prompt-text", "something else",
        "--response-id", "r1", "--response-text", "x", "--agent-id", "a1", "--session-id", "s1",
    )  # fmt: skip
    run.assert_error(1, "p1")
    shown = cli("--db", db, "--json", "show", "p1").json()
    assert shown["prompt_text"] == "question 1 about the topic 1"


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--metadata", "{oops", "'--metadata'"),
        ("--metadata", "[1, 2]", "must be a JSON object"),
        ("--timestamp", "last tuesday", "ISO 8601"),
        ("--prompt-id", " ", "prompt id ' ' must not be empty or only whitespace"),
        ("--prompt-id", "two\nlines", "prompt id 'two\\nlines' must not contain control"),
        ("--session-id", "tab\tid", "session_id 'tab\\tid' must not contain control"),
        ("--agent-id", "\x1b[31m", "agent id '\\x1b[31m' must not contain control"),
        ("--response-text", "\ud800", "response text contains a lone surrogate"),
    ],
)
def test_bad_add_values_are_usage_errors(
    cli: Any, db: Path, flag: str, value: str, fragment: str
) -> None:
    options = {
        "--prompt-id": "p1", "--prompt-text": "t", "--response-id": "r1",
        "--response-text": "x", "--agent-id": "a1", "--session-id": "s1",
    }  # fmt: skip
    options[flag] = value
    args = [part for pair in options.items() for part in pair]
    cli("--db", db, "add", *args).assert_error(2, fragment)


def test_a_missing_seed_flag_is_a_usage_error(cli: Any, db: Path) -> None:
    run = cli("--db", db, "add", "--prompt-id", "p1", "--prompt-text", "t")
    run.assert_error(2, "Missing option", "--help")
    assert not db.parent.exists()


def test_show_of_an_unknown_prompt(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    cli("--db", db, "show", "nope").assert_error(1, "no prompt with id 'nope'")


def test_history_lists_sessions_then_a_session_in_order(cli: Any, db: Path, add_one: Any) -> None:
    for n, session in ((1, "s1"), (2, "s2"), (3, "s1")):
        add_one(n, session=session)
    listed = cli("--db", db, "history").assert_ok().lines()
    assert [row.split("\t")[:2] for row in listed] == [["s1", "2"], ["s2", "1"]]
    assert cli("--db", db, "--json", "history").json() == ["s1", "s2"]
    rows = [line.split("\t") for line in cli("--db", db, "history", "--session", "s1").lines()]
    assert [row[0] for row in rows] == ["p1", "p3"]
    assert rows[0][2:] == ["a1", "question 1 about the topic 1", "answer 1"]
    data = cli("--db", db, "--json", "history", "--session", "s1").json()
    assert [item["prompt_id"] for item in data] == ["p1", "p3"]
    cli("--db", db, "history", "--session", "s9").assert_error(1, "no session with id 's9'")


def test_plain_lines_escape_tabs_and_newlines(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1, text="two\tcolumns\nand lines")
    (row,) = cli("--db", db, "history", "--session", "s1").lines()
    assert row.split("\t")[3] == "two\\tcolumns\\nand lines"


def test_delete_asks_first_and_no_answer_changes_nothing(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    add_one(2)
    run = cli("--db", db, "delete", "--prompt", "p1", input="")
    assert run.code == 1
    assert "Delete interaction p1" in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last == "raeburnmemory: error: aborted; nothing was changed"
    assert cli("--db", db, "delete", "--prompt", "p1", input="n\n").code == 1
    assert cli("--db", db, "--json", "stats").json()["interactions"] == 2
    done = cli("--db", db, "delete", "--prompt", "p1", input="y\n").assert_ok()
    assert done.stdout == "deleted interaction p1\n"
    cli("--db", db, "show", "p1").assert_error(1, "no prompt")


def test_delete_a_session_with_yes(cli: Any, db: Path, add_one: Any) -> None:
    for n, session in ((1, "s1"), (2, "s2"), (3, "s1")):
        add_one(n, session=session)
    data = cli("--db", db, "--json", "delete", "--session", "s1", "--yes").assert_ok().json()
    assert data == {"deleted": ["p1", "p3"]}
    assert [row.split("\t")[0] for row in cli("--db", db, "history").lines()] == ["s2"]
    hits = cli("--db", db, "--json", "similar", "--text", "question 1 about the topic 1").json()
    assert hits["ids"] == ["p2"]


@pytest.mark.parametrize(
    "args",
    [[], ["--prompt", "p1", "--session", "s1"]],
)
def test_delete_needs_exactly_one_target(cli: Any, db: Path, add_one: Any, args: list[str]) -> None:
    add_one(1)
    cli("--db", db, "delete", "--yes", *args).assert_error(2, "exactly one of")


def test_delete_of_unknown_ids(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    cli("--db", db, "delete", "--prompt", "zz", "--yes").assert_error(1, "'zz'")
    cli("--db", db, "delete", "--session", "zz", "--yes").assert_error(1, "'zz'")


def test_json_output_is_one_document(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    text = cli("--db", db, "--json", "stats").assert_ok().stdout
    data = json.loads(text)
    assert data["interactions"] == 1
    assert data["encoder"] == "raeburn-hashing-384"
    assert data["storage_backend"] == "json"
    assert data["location"] == str(db)
