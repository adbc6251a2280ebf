"""A JSON store holding a record nested past Python's recursion limit still opens and reads.

Such a record can only come from before the limits on what a record may hold; it is written
here straight into the files, as an older version would have left it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from raeburnmemory.core import json_text
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing.data import interaction

DEPTH = 3 * sys.getrecursionlimit()


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "bottom"}
    for _ in range(depth - 1):
        value = {"in": value}
    return value


def _depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in item.values())
    return deepest


def _store_with_a_deep_record(path: Path) -> None:
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.add_interaction(
            {"id": "p0", "text": "an ordinary prompt"},
            {"id": "r0", "text": "an ordinary answer"},
            {"id": "agent-1"},
            "session-1",
        )
    old = interaction(1, session_id="session-1", metadata=_nested(DEPTH))
    old_attrs = interaction(2, agent_attrs={"tree": _nested(DEPTH)}, prompt_attrs={"x": 1})
    items = [old.to_dict(), old_attrs.to_dict()]
    with Path(f"{path}.journal").open("ab") as journal:
        journal.write(json_text.dumps({"op": "add", "items": items}).encode() + b"\n")


def _check_reads(memory: MemoryGraph) -> None:
    assert _depth(memory.get_interaction("p1").metadata) == DEPTH
    assert _depth(memory.get_interaction("p2").agent_attrs) == DEPTH + 1
    assert [item.prompt_id for item in memory.get_session("session-1")] == ["p1", "p0"]
    assert {agent.id for agent in memory.agents()} == {"agent-1", "agent-2"}
    assert memory.search("an ordinary prompt", top_k=1)[0].id == "p0"
    assert memory.stats()["interactions"] == 3
    graph = json_text.loads("".join(memory.iter_node_link_json()))
    assert len(graph["nodes"]) == 3 * 2 + 2 + 2  # prompts and responses, agents, sessions
    assert memory.graph.number_of_nodes() == 10


def test_a_journal_line_nested_past_the_recursion_limit_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "store" / "graph.json"
    _store_with_a_deep_record(path)
    with MemoryGraph(path, embedding_model=None) as memory:
        _check_reads(memory)


def test_the_deep_record_survives_compaction_and_a_lazy_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store" / "graph.json"
    _store_with_a_deep_record(path)
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.export()  # folds the journal into a new snapshot and map
    with MemoryGraph(path, embedding_model=None) as memory:
        _check_reads(memory)
    assert "agent-2" in Path(f"{path}.map.json").read_text()


def test_a_snapshot_without_its_index_is_parsed_whole(tmp_path: Path) -> None:
    path = tmp_path / "store" / "graph.json"
    _store_with_a_deep_record(path)
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.export()
    map_path = Path(f"{path}.map.json")
    content = json_text.loads(map_path.read_bytes())
    content["index"] = None
    map_path.write_text(json_text.dumps(content))
    with MemoryGraph(path, embedding_model=None) as memory:
        _check_reads(memory)
