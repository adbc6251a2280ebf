"""export: node-link JSON and GraphML files, one session, standard output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


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
