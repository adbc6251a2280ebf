"""Stores kept as test fixtures, written by an earlier version: read back whole, in one shape.

Each distribution keeps a small store its first release wrote beside an ``expected.json``
that holds, in :func:`describe`'s shape, everything in it; the tests open the store with the
current code and compare (:func:`assert_holds`), search it (:func:`assert_reads_and_searches`)
and write to it (:func:`write_beside` then, reopened, :func:`assert_written_beside`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.encoders import resolve_encoder
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Store
from raeburnmemory.memory_graph import MemoryGraph

__all__ = [
    "NEW_TEXT",
    "assert_holds",
    "assert_reads_and_searches",
    "assert_written_beside",
    "describe",
    "expected_in",
    "write_beside",
]

#: The prompt :func:`write_beside` adds to a kept store (prompt id ``p15``, session ``kitchen``).
NEW_TEXT = "Knead the dough again? Ça dépend."


def expected_in(folder: Path) -> dict[str, Any]:
    """The ``expected.json`` of a folder of kept stores."""
    found: dict[str, Any] = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return found


def describe(store: Store, expected: Mapping[str, Any]) -> dict[str, Any]:
    """Everything ``store`` holds, in ``expected``'s shape, read through the public API.

    ``expected["deleted"]`` names the prompts the fixture deleted; they must stay deleted.
    """
    info = store.encoder_info()
    stored = store.load_vectors()
    return {
        "version": expected["version"],
        "encoder": None if info is None else {"name": info.name, "dim": info.dim},
        "interactions": [item.to_dict() for item in store.iter_interactions()],
        "deleted": [pid for pid in expected["deleted"] if store.get(pid) is None],
        "sessions": {sid: [i.prompt_id for i in store.session(sid)] for sid in store.sessions()},
        "agents": [{"id": a.id, "name": a.name, "attrs": dict(a.attrs)} for a in store.agents()],
        "links": sorted([link.source, link.target, link.relation] for link in store.links()),
        "vectors": {
            pid: base64.b64encode(np.ascontiguousarray(row, "<f4").tobytes()).decode("ascii")
            for pid, row in zip(stored.ids, stored.vectors, strict=True)
        },
    }


def assert_holds(store: Store, expected: Mapping[str, Any]) -> None:
    """Fail unless ``store`` holds every field of every record, every link and every vector
    bit as ``expected`` lists them, and nothing else."""
    found = describe(store, expected)
    for key, value in expected.items():
        assert found[key] == value, key
    assert store.count() == len(expected["interactions"])


def assert_reads_and_searches(memory: MemoryGraph, expected: Mapping[str, Any]) -> None:
    """Fail unless a graph on a kept store uses the store's encoder, reads every record as
    written and finds each prompt by its own text, by session and by keyword."""
    assert memory.encoder_name == expected["encoder"]["name"]  # the one the store recorded
    assert_holds(memory.store, expected)
    for item in expected["interactions"]:
        assert memory.get_interaction(item["prompt_id"]).to_dict() == item
        hits = memory.search(item["prompt_text"], 1)
        assert [hit.id for hit in hits] == [item["prompt_id"]]
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert memory.sessions() == list(expected["sessions"])
    for session_id, prompt_ids in expected["sessions"].items():
        assert [i.prompt_id for i in memory.get_session(session_id)] == prompt_ids
    kitchen = memory.search("sourdough bread", 5, session_id="kitchen")
    assert {hit.session_id for hit in kitchen} == {"kitchen"}
    keyword = memory.search("sourdough", 2, mode="keyword")
    assert {hit.id for hit in keyword} == {"p01", "p11"}
    stats = memory.stats()
    assert (stats["interactions"], stats["sessions"], stats["agents"], stats["links"]) == (
        len(expected["interactions"]),
        len(expected["sessions"]),
        len(expected["agents"]),
        len(expected["links"]),
    )


def write_beside(memory: MemoryGraph) -> None:
    """Add one interaction (:data:`NEW_TEXT`, by a known agent, in a known session) and link it
    to an old prompt, through a graph on a kept store."""
    memory.add_interaction(
        {"id": "p15", "text": NEW_TEXT},
        {"id": "r15", "text": "Only briefly."},
        {"id": "agent-böb"},
        "kitchen",
        metadata={"new": True},
        timestamp="2026-02-01T00:00:00+00:00",
    )
    memory.link_prompts("p15", "p01", "related_to")


def assert_written_beside(memory: MemoryGraph, expected: Mapping[str, Any]) -> Interaction:
    """Fail unless a graph reopened on a kept store holds :func:`write_beside`'s interaction,
    link and vector beside every old record, unchanged, and finds the new prompt by its text.
    Returns the new interaction."""
    added = memory.get_interaction("p15")
    assert (added.prompt_text, added.agent_id, dict(added.metadata)) == (
        NEW_TEXT,
        "agent-böb",
        {"new": True},
    )
    found = describe(memory.store, expected)
    assert found["interactions"] == [*expected["interactions"], added.to_dict()]
    assert found["sessions"]["kitchen"] == [*expected["sessions"]["kitchen"], "p15"]
    assert found["links"] == sorted([*expected["links"], ["p15", "p01", "related_to"]])
    vector = resolve_encoder(expected["encoder"]["name"]).encode([added.prompt_text])[0]
    assert found["vectors"].pop("p15") == base64.b64encode(vector.astype("<f4")).decode()
    assert found["vectors"] == expected["vectors"]
    assert [hit.id for hit in memory.search(added.prompt_text, 1)] == ["p15"]
    return added
