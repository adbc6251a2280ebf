"""similar: ids and scores best first, filters, JSON, terminal tables, and its errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def filled(add_one: Any) -> None:
    add_one(1, text="how do I bake bread at home", session="s1", agent="baker")
    add_one(2, text="how do I bake a chocolate cake", session="s1", agent="baker")
    add_one(3, text="which train goes to the airport", session="s2", agent="guide")
    add_one(4, text="bake bread without yeast", session="s2", agent="guide")


@pytest.mark.usefixtures("filled")
def test_similar_prints_ids_and_scores_best_first(cli: Any, db: Path) -> None:
    rows = [line.split("\t") for line in cli("--db", db, "similar", "--text", "bake bread").lines()]
    assert [row[0] for row in rows][:2] == ["p1", "p4"] or [row[0] for row in rows][:2] == [
        "p4",
        "p1",
    ]
    scores = [float(row[1]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert len(rows) == 4


@pytest.mark.usefixtures("filled")
def test_similar_json_has_ids_and_hits(cli: Any, db: Path) -> None:
    data = cli("--db", db, "--json", "similar", "--text", "train to the airport", "-k", "2").json()
    assert data["query"] == "train to the airport"
    assert data["ids"][0] == "p3"
    assert len(data["ids"]) == 2
    assert [hit["id"] for hit in data["hits"]] == data["ids"]
    top = data["hits"][0]
    assert top["prompt_text"] == "which train goes to the airport"
    assert top["response_text"] == "answer 3"
    assert top["session_id"] == "s2"
    assert top["agent_id"] == "guide"
    assert top["score"] >= data["hits"][1]["score"]


@pytest.mark.usefixtures("filled")
def test_similar_filters_by_session_and_agent(cli: Any, db: Path) -> None:
    by_session = cli("--db", db, "--json", "similar", "--text", "bake", "--session", "s2").json()
    assert set(by_session["ids"]) == {"p3", "p4"}
    by_agent = cli("--db", db, "--json", "similar", "--text", "bake", "--agent", "baker").json()
    assert set(by_agent["ids"]) == {"p1", "p2"}
    none = cli("--db", db, "--json", "similar", "--text", "bake", "--agent", "nobody").json()
    assert none["ids"] == []
    assert cli("--db", db, "similar", "--text", "bake", "--agent", "nobody").stdout == ""


@pytest.mark.usefixtures("filled")
def test_a_terminal_gets_a_table(cli: Any, db: Path) -> None:
    run = cli("--db", db, "similar", "--text", "bake bread", TTY_COMPATIBLE="1", COLUMNS="120")
    text = re.sub(r"\x1b\[[0-9;]*m", "", run.assert_ok().stdout)
    assert "┃ prompt " in text
    assert "┃  score ┃" in text
    assert "\t" not in text
    assert "how do I bake bread at home" in text


@pytest.mark.usefixtures("filled")
def test_a_terminal_record_for_stats(cli: Any, db: Path) -> None:
    run = cli("--db", db, "stats", TTY_COMPATIBLE="1").assert_ok()
    assert "interactions" in run.stdout
    assert "interactions:" not in run.stdout


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--top-k", "0"], "'--top-k'"),
        (["--top-k", "many"], "'--top-k'"),
        (["--mode", "psychic"], "'--mode'"),
    ],
)
def test_bad_similar_flags_are_usage_errors(
    cli: Any, db: Path, args: list[str], fragment: str
) -> None:
    cli("--db", db, "similar", "--text", "x", *args).assert_error(2, fragment)


@pytest.mark.usefixtures("filled")
def test_keyword_search_works_on_the_json_store(cli: Any, db: Path) -> None:
    cli("--db", db, "similar", "--text", "bake", "--mode", "keyword").assert_ok()


def test_similar_on_a_store_without_embeddings(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    cli("--db", db, "delete", "--prompt", "p1", "--yes").assert_ok()
    cli("--db", db, "similar", "--text", "anything").assert_error(1, "no embeddings")


def test_reindex_re_embeds_every_prompt(cli: Any, db: Path, add_one: Any) -> None:
    for n in range(3):
        add_one(n)
    run = cli("--db", db, "reindex").assert_ok()
    assert run.stdout == "re-embedded 3 prompts with raeburn-hashing-384\n"
    assert run.stderr == ""  # no progress bar off a terminal
    data = cli("--db", db, "--json", "reindex").json()
    assert data == {"reindexed": 3, "encoder": "raeburn-hashing-384"}
    assert cli("--db", db, "--json", "similar", "--text", "question 2").json()["ids"][0] == "p2"
