"""Stores kept as test fixtures, written by an earlier version: read back whole, in one shape.

Each distribution keeps a small store its first release wrote beside an ``expected.json``
that holds, in :func:`describe`'s shape, everything in it; the tests open the store with the
current code and compare.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.core.store import Store

__all__ = ["assert_holds", "describe", "expected_in"]


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
