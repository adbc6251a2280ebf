"""demo: a multi-agent conversation recorded offline, searched, idempotent on a rerun."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from raeburnmemory.cli._demo import DEMO_QUERY, conversation


def test_demo_records_into_a_local_folder_and_shows_hits(cli: Any, offline_home: Path) -> None:
    started = time.perf_counter()
    run = cli("demo").assert_ok()
    elapsed = time.perf_counter() - started
    store = Path.cwd() / "raeburnmemory-demo" / "graph.json"
    lines = run.lines()
    assert lines[0] == (f"recorded 8 interactions of 3 agents in 2 sessions into {store} (8 new)")
    hits = [line.split("\t") for line in lines[1:]]
    assert len(hits) == 3
    assert hits[0][0] == "demo-p2"  # "remember facts from earlier sessions"
    assert 'similar "your question"' in run.stderr
    assert "--model none" in run.stderr
    # RAEBURN_DB_PATH (the user's own memory) was not touched.
    assert not (offline_home / ".raeburnbrain").exists()
    assert elapsed < 30  # generous: the point is that no model is downloaded


def test_demo_twice_adds_nothing_the_second_time(cli: Any) -> None:
    cli("demo").assert_ok()
    data = cli("--json", "demo").assert_ok().json()
    assert data["added"] == 0
    assert data["interactions"] == 8
    assert data["encoder"] == "raeburn-hashing-384"
    assert data["query"] == DEMO_QUERY
    assert data["ids"][0] == "demo-p2"
    store = Path.cwd() / "raeburnmemory-demo" / "graph.json"
    stats = cli("--db", store, "--json", "stats").json()
    assert stats["interactions"] == 8
    assert stats["sessions"] == 2
    assert stats["agents"] == 3


def test_demo_into_a_given_store_with_a_query(cli: Any, db: Path) -> None:
    run = cli("--db", db, "--json", "demo", "--query", "SQLite or PostgreSQL?", "-k", "1")
    data = run.assert_ok().json()
    assert data["store"] == str(db)
    assert data["ids"] == ["demo-p6"]
    history = cli("--db", db, "--json", "history", "--session", "demo-day-2").json()
    assert [item["agent_id"] for item in history] == ["planner", "researcher", "writer", "writer"]


def test_the_conversation_has_three_agents_over_two_sessions() -> None:
    records = conversation()
    assert len({r["agent"]["id"] for r in records}) == 3
    assert len({r["session_id"] for r in records}) == 2
    assert len({r["prompt"]["id"] for r in records}) == len(records)
