"""``list``, ``count``, ``update`` and ``forget`` in real processes of the installed command:
paging with cursors, filters (``--where`` included), the question before forgetting, and one
clean line for every bad filter."""

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


def _fill(db: Path, count: int = 7) -> None:
    """``count`` interactions p0, p1, ... a minute apart, in sessions s0/s1, with metadata."""
    with MemoryGraph(db, embedding_model=None) as memory:
        memory.batch_add(
            {
                "prompt": {"id": f"p{i}", "text": f"question {i}"},
                "response": {"id": f"r{i}", "text": f"answer {i}"},
                "agent": {"id": f"a{i % 3}"},
                "session_id": f"s{i % 2}",
                "metadata": {"n": i, "user": "ana" if i < 3 else "bo"},
                "timestamp": f"2026-01-02T10:0{i}:00Z",
            }
            for i in range(count)
        )


@pytest.fixture
def run(process: Any, db: Path) -> Any:
    """``run("list", "--json", input=...)``: the installed command on the test store."""
    if not SCRIPT.exists():
        pytest.skip("the console script is not installed beside this Python")

    def invoke(*args: str, input: str | None = None) -> Any:
        return process([str(SCRIPT), "--db", str(db), *args], input=input)

    return invoke


@pytest.fixture
def filled(db: Path) -> Path:
    db.parent.mkdir(parents=True)
    _fill(db)
    return db


def test_list_pages_with_the_cursor_it_prints(run: Any, filled: Path) -> None:
    first = run("--json", "list", "--limit", "3").assert_ok().json()
    assert [item["prompt_id"] for item in first["items"]] == ["p0", "p1", "p2"]
    second = run("list", "--json", "-n", "3", "--cursor", first["next_cursor"]).assert_ok().json()
    assert [item["prompt_id"] for item in second["items"]] == ["p3", "p4", "p5"]
    plain = run("list", "-n", "3", "--cursor", second["next_cursor"]).assert_ok()
    assert [line.split("\t")[0] for line in plain.lines()] == ["p6"]
    assert plain.stderr == ""  # the last page: no cursor to print
    paged = run("list", "-n", "2", "--order", "desc").assert_ok()
    assert [line.split("\t")[0] for line in paged.lines()] == ["p6", "p5"]
    assert "--cursor " in paged.stderr


def test_list_all_walks_every_page_with_filters(run: Any, filled: Path) -> None:
    every = run("--json", "list", "--all", "-n", "2", "--session", "s0").assert_ok().json()
    assert [item["prompt_id"] for item in every["items"]] == ["p0", "p2", "p4", "p6"]
    assert every["next_cursor"] is None
    rows = run(
        "list", "--all", "--where", '{"user": "bo", "n": {"$lt": 6}}',
        "--since", "2026-01-02T10:04:00Z", "--until", "2026-01-02T10:05:00Z",
    ).assert_ok()  # fmt: skip
    assert [line.split("\t")[0] for line in rows.lines()] == ["p4", "p5"]


def test_count_takes_the_same_filters(run: Any, filled: Path) -> None:
    assert run("count").assert_ok().stdout == "7\n"
    assert run("--json", "count", "--agent", "a1").assert_ok().json() == {"count": 2}
    assert run("count", "--where", '{"n": {"$in": [1, 2, 40]}}').assert_ok().stdout == "2\n"


def test_update_changes_the_response_and_metadata(run: Any, filled: Path) -> None:
    shown = run("--json", "update", "p2", "--response", "better", "--metadata", '{"k": 1}')
    assert shown.assert_ok().json()["response_text"] == "better"
    stored = run("--json", "show", "p2").assert_ok().json()
    assert (stored["response_text"], stored["metadata"]) == ("better", {"k": 1})
    prompt = run("--json", "update", "p3", "--prompt", "a brand new question").assert_ok()
    assert prompt.json()["prompt_text"] == "a brand new question"
    assert run("--json", "similar", "brand new question", "-k", "1").assert_ok().json()["ids"] == [
        "p3"
    ]


def test_forget_asks_with_the_count_and_deletes_on_yes(run: Any, filled: Path) -> None:
    refused = run("forget", "--session", "s1", input="n\n")
    assert refused.code == 1
    assert "Forget 3 interactions" in refused.stderr
    assert run("count").stdout == "7\n"
    done = run("forget", "--session", "s1", input="y\n").assert_ok()
    assert done.stdout == "forgot 3 interactions\n"
    assert run("count").stdout == "4\n"
    gone = run("--json", "forget", "--before", "2026-01-02T10:04:00Z", "--yes").assert_ok()
    assert gone.json() == {"forgotten": 2}  # p0 and p2; p4 happened at that very moment
    assert run("--json", "forget", "--where", '{"user": "nobody"}').assert_ok().json() == {
        "forgotten": 0
    }
    run("forget", "--everything", "--yes").assert_ok()
    assert run("count").stdout == "0\n"


def test_forget_with_no_filter_refuses(run: Any, filled: Path) -> None:
    run("forget", "--yes").assert_error(2, "--everything")
    assert run("count").stdout == "7\n"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["list", "--where", "{not json"], ("--where", "not valid JSON")),
        (["count", "--where", "[1, 2]"], ("--where", "JSON object", "list")),
        (["list", "--where", '{"n": {"$gt": "x"}}'], ("--where", '["n"]["$gt"]', "numbers")),
        (["forget", "--where", '{"n": {"$near": 1}}', "--yes"], ("--where", "$near")),
        (["list", "--since", "yesterday"], ("--since", "yesterday")),
        (["forget", "--before", "soon", "--yes"], ("--before", "soon")),
        (["list", "--cursor", "garbage"], ("cursor",)),
        (["list", "--order", "sideways"], ("--order",)),
        (["update", "p1"], ("--response", "--metadata", "--prompt")),
        (["update", "p1", "--metadata", "[]"], ("--metadata", "JSON object")),
    ],
)
def test_bad_filters_are_one_clean_line_and_usage_errors(
    run: Any, filled: Path, args: list[str], fragments: tuple[str, ...]
) -> None:
    run(*args).assert_error(2, *fragments)
    assert run("count").stdout == "7\n"


def test_an_unknown_id_to_update_is_an_error(run: Any, filled: Path) -> None:
    run("update", "nope", "--response", "x").assert_error(1, "nope")


@pytest.mark.parametrize("args", [["list"], ["count"], ["--json", "list", "--all"]])
def test_read_only_commands_never_create_a_store(run: Any, db: Path, args: list[str]) -> None:
    run(*args).assert_error(1, str(db))
    assert not db.parent.exists()


def test_json_list_items_are_the_library_records(run: Any, filled: Path) -> None:
    item = run("--json", "list", "-n", "1").assert_ok().json()["items"][0]
    with MemoryGraph(filled, embedding_model=None) as memory:
        assert item == json.loads(json.dumps(memory.get_interaction("p0").to_dict()))
