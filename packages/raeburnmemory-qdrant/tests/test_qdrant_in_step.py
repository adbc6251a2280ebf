"""Reopening an embedded shard closed in step with the store (without reading a vector when the
store's version token is unchanged), and staying correct when another process wrote the store
meanwhile, even one killed before closing (real processes, a real Qdrant Edge shard)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.registry import load_storage_backend
from raeburnmemory.core.store import StoredVectors
from raeburnmemory.core.testing import interaction, interactions
from raeburnmemory.qdrant._in_step import store_fingerprint
from raeburnmemory.qdrant.index import QdrantVectors

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

ALL = 200  # more than any test stores: a search for this many returns every point


def _options(tmp_path: Path, backend: str = "qdrant") -> dict[str, Any]:
    return {
        "db_path": str(tmp_path / "graph.json"),
        "embedding_model": None,
        "vector_backend": backend,
    }


def _marker(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "graph.json.qdrant" / "shards" / "graph_json.json"
    value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return value


def _store_fingerprint(tmp_path: Path) -> str:
    store = load_storage_backend("json").open(str(tmp_path / "graph.json"))
    try:
        return store_fingerprint(store.load_vectors())
    finally:
        store.close()


def _indexed(tmp_path: Path) -> set[str]:
    """Every prompt the reopened Qdrant index answers with."""
    with MemoryGraph(**_options(tmp_path)) as graph:
        return set(graph.get_similar_prompts(interaction(0).prompt_text, ALL))


_OTHER_WRITER = """
import json, sys
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing import interaction, interactions
options, change = json.loads(sys.argv[1]), sys.argv[2]
with MemoryGraph(**options) as graph:
    if change == "add":
        graph.batch_add(interactions(5, start=30))
    elif change == "delete":
        graph.delete_interaction("p3")
        graph.delete_interaction("p4")
    elif change == "compact":
        graph.export()
    else:  # a prompt deleted, and another added in the same session
        graph.delete_interaction("p5")
        graph.batch_add([interaction(31, session_id="session-1")])
"""

_EXPECTED = {
    "add": {f"p{i}" for i in range(35)},
    "delete": {f"p{i}" for i in range(30)} - {"p3", "p4"},
    "both": ({f"p{i}" for i in range(30)} - {"p5"}) | {"p31"},
    "compact": {f"p{i}" for i in range(30)},
}


def _write_in_another_process(tmp_path: Path, change: str) -> None:
    """Another process writes the store (with FAISS vectors: the shard stays untouched)."""
    options = json.dumps(_options(tmp_path, "faiss"))
    subprocess.run([sys.executable, "-c", _OTHER_WRITER, options, change], check=True, timeout=120)


def test_a_clean_close_records_the_fingerprint_of_what_the_shard_holds(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
    assert _marker(tmp_path)["in_step"] == _store_fingerprint(tmp_path)


def test_the_first_batch_of_a_new_store_is_written_to_the_shard_once(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
        engine = graph._keeper.index._engine  # type: ignore[union-attr]
        # One write creates the shard, one upserts the batch (the reconciliation that opened
        # the index); the graph's own add finds every row already there.
        assert engine.writes() == 2


@pytest.mark.parametrize("change", ["add", "delete", "both"])
def test_writes_by_another_process_while_the_shard_is_closed_are_seen(
    tmp_path: Path, change: str
) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
    assert "in_step" in _marker(tmp_path)
    _write_in_another_process(tmp_path, change)
    assert _indexed(tmp_path) == _EXPECTED[change]
    assert _marker(tmp_path)["in_step"] == _store_fingerprint(tmp_path)


@pytest.mark.parametrize("change", ["add", "delete", "both"])
def test_writes_by_another_process_while_the_shard_is_held_are_seen(
    tmp_path: Path, change: str
) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
        _write_in_another_process(tmp_path, change)
    # The shard was closed holding what this process wrote, not the other's writes.
    assert _marker(tmp_path)["in_step"] != _store_fingerprint(tmp_path)
    assert _indexed(tmp_path) == _EXPECTED[change]


def test_an_unchanged_store_reopens_in_step(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
    claim = _marker(tmp_path)["in_step"]
    assert _indexed(tmp_path) == {f"p{i}" for i in range(30)}
    assert _marker(tmp_path)["in_step"] == claim


_WRITE_AND_WAIT = """
import json, sys, time
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing import interactions

graph = MemoryGraph(**json.loads(sys.argv[1]))
graph.batch_add(interactions(10, start=30))
graph.delete_interaction("p0")
print("written", flush=True)
time.sleep(120)
"""


def _killed_after_writing(script: str, argument: str) -> None:
    """Run ``script`` in another process and SIGKILL it once it prints that it has written."""
    writer = subprocess.Popen(
        [sys.executable, "-c", script, argument], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "written"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)


def test_a_writer_killed_after_an_in_step_open_leaves_no_claim(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
    assert "in_step" in _marker(tmp_path)
    _killed_after_writing(_WRITE_AND_WAIT, json.dumps(_options(tmp_path)))
    assert "in_step" not in _marker(tmp_path)
    assert _indexed(tmp_path) == {f"p{i}" for i in range(1, 40)}


def test_the_fingerprint_ignores_order_and_sees_every_field() -> None:
    from raeburnmemory.core.store import StoredVectors
    from raeburnmemory.core.testing import unit_vectors

    items = interactions(6)
    ids = [item.prompt_id for item in items]
    payloads = [item.payload for item in items]
    vectors = unit_vectors(6, dim=8)
    base = store_fingerprint(StoredVectors(ids, vectors, payloads))
    order = [5, 0, 3, 1, 4, 2]
    shuffled = StoredVectors([ids[i] for i in order], vectors[order], [payloads[i] for i in order])
    assert store_fingerprint(shuffled) == base
    swapped = vectors.copy()
    swapped[[0, 1]] = vectors[[1, 0]]  # two prompts exchange vectors
    nudged = vectors.copy()
    nudged[2, 3] = np.nextafter(nudged[2, 3], np.float32(2))
    moved = list(payloads)
    moved[4] = type(moved[4])("another-session", moved[4].agent_id, moved[4].timestamp)
    others = [
        StoredVectors(ids, swapped, payloads),
        StoredVectors(ids, nudged, payloads),
        StoredVectors(ids, vectors, moved),
        StoredVectors([*ids[:5], "p5é"], vectors, payloads),
        StoredVectors(ids[:5], vectors[:5], payloads[:5]),
    ]
    assert len({base, *(store_fingerprint(other) for other in others)}) == 1 + len(others)


# -- the store's version token ---------------------------------------------------------------------

THIRTY = {f"p{i}" for i in range(30)}


def _in_step_with_a_token(tmp_path: Path) -> None:
    """Thirty prompts, then an open that writes nothing: its close records the store's token."""
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(30))
    assert _indexed(tmp_path) == THIRTY
    assert {"in_step", "store_version"} <= set(_marker(tmp_path))


class CountingStore(JsonStore):
    """A JSON store counting the calls that read every vector."""

    reads = 0

    def load_vectors(self) -> StoredVectors:
        """Counted, then read."""
        type(self).reads += 1
        return super().load_vectors()

    def vector_blocks(self, rows: int = 8192) -> Any:
        """Counted, then read."""
        type(self).reads += 1
        return super().vector_blocks(rows)


def _reopen_counting(tmp_path: Path) -> tuple[int, set[str]]:
    """Open the index over a counting store: the vector reads, and what a search finds."""
    CountingStore.reads = 0
    store = CountingStore.open(str(tmp_path / "graph.json"))
    try:
        info = store.encoder_info()
        assert info is not None
        index = QdrantVectors.create(dim=info.dim, store=store, options={})
        try:
            index.reconcile(store)
            reads = CountingStore.reads
            query = store.vectors_of(["p0"]).vectors
            found = {pid for pid, _ in index.search(query, ALL)}
        finally:
            index.close()
    finally:
        store.close()
    return reads, found


def test_a_reopen_of_an_unchanged_store_reads_no_vector(tmp_path: Path) -> None:
    _in_step_with_a_token(tmp_path)
    claim = _marker(tmp_path)
    assert _reopen_counting(tmp_path) == (0, THIRTY)
    assert _reopen_counting(tmp_path) == (0, THIRTY)
    assert _marker(tmp_path) == claim


@pytest.mark.parametrize("change", ["add", "delete", "both", "compact"])
def test_another_process_writing_after_the_token_was_recorded_is_caught(
    tmp_path: Path, change: str
) -> None:
    _in_step_with_a_token(tmp_path)
    token = _marker(tmp_path)["store_version"]
    _write_in_another_process(tmp_path, change)
    reads, found = _reopen_counting(tmp_path)
    assert found == _EXPECTED[change]
    assert reads >= 1  # the token changed, so the store's vectors were compared
    assert _marker(tmp_path)["store_version"] != token
    assert _reopen_counting(tmp_path) == (0, _EXPECTED[change])


_WRITE_AND_DIE = """
import sys, time
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.testing import interactions, unit_vectors

store = JsonStore.open(sys.argv[1])
items = interactions(4, start=30)
store.add(items, unit_vectors(4, dim=store.encoder_info().dim, seed=5))
store.delete(["p1"])
print("written", flush=True)
time.sleep(120)
"""


def test_a_store_writer_killed_before_closing_leaves_the_shard_behind_and_caught_up(
    tmp_path: Path,
) -> None:
    _in_step_with_a_token(tmp_path)
    _killed_after_writing(_WRITE_AND_DIE, str(tmp_path / "graph.json"))
    expected = (THIRTY - {"p1"}) | {f"p{i}" for i in range(30, 34)}
    assert _reopen_counting(tmp_path)[1] == expected
    assert _reopen_counting(tmp_path) == (0, expected)


def test_a_write_after_a_trusted_open_takes_the_token_away(tmp_path: Path) -> None:
    _in_step_with_a_token(tmp_path)
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add([interaction(40)])
        assert "store_version" not in _marker(tmp_path)
    reads, found = _reopen_counting(tmp_path)
    assert found == THIRTY | {"p40"}
    assert reads >= 1
