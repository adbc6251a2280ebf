"""Qdrant out of reach, taken by another process, or out of step with the store: nothing is lost."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from qdrant_edge import (
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeVectorParams,
    Point,
    ScrollRequest,
    UpdateOperation,
)

from raeburnmemory.core.errors import (
    ConfigurationError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
)
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing import interaction, interactions
from raeburnmemory.qdrant import _pending, _pool
from raeburnmemory.qdrant.settings import resolve_settings

_HOLD_SHARD = """
import sys
from raeburnmemory.qdrant import _pool
from raeburnmemory.qdrant.settings import resolve_settings
lease = _pool.acquire(resolve_settings(sys.argv[1], {}))
print("holding", flush=True)
sys.stdin.read()
lease.release()
"""


def _options(tmp_path: Path, **more: Any) -> dict[str, Any]:
    return {
        "db_path": str(tmp_path / "graph.json"),
        "embedding_model": None,
        "vector_backend": "qdrant",
        **more,
    }


def _folder(tmp_path: Path) -> Path:
    return tmp_path / "graph.json.qdrant"


def _add(graph: MemoryGraph, index: int) -> str:
    item = interaction(index)
    return graph.add_interaction(
        {"id": item.prompt_id, "text": item.prompt_text},
        {"id": item.response_id, "text": item.response_text},
        {"id": item.agent_id},
        item.session_id,
        timestamp=item.timestamp,
    )


def _shard_path(tmp_path: Path, collection: str = "graph_json") -> Path:
    return _folder(tmp_path) / "shards" / collection


def _points(tmp_path: Path) -> set[str]:
    """The prompt ids the store's shard holds, read under its lock (it must be free)."""
    lease = _pool.acquire(resolve_settings(str(tmp_path / "graph.json"), {}))
    try:
        shard = lease.shard.shard()
        assert shard is not None
        records, _ = shard.scroll(ScrollRequest(limit=10_000, with_payload=["prompt_id"]))
        return {str((record.payload or {})["prompt_id"]) for record in records}
    finally:
        lease.release()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("max_pending", [None, 2], ids=["queued", "overflowing"])
@pytest.mark.parametrize("reindex", [False, True], ids=["writes", "reindex"])
def test_writes_wait_while_qdrant_is_out_of_reach_and_nothing_is_lost(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    max_pending: int | None,
    reindex: bool,
) -> None:
    if max_pending is not None:  # past it, the queue gives way to a full reconciliation
        monkeypatch.setattr(_pending, "MAX_PENDING", max_pending)
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(10))
        # Qdrant goes away: this process's shard is closed and another process takes it.
        _pool.close_all()
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD_SHARD, str(tmp_path / "graph.json")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "holding"
            with caplog.at_level(logging.WARNING, logger="raeburnmemory.qdrant"):
                added = [_add(graph, i) for i in range(10, 13)]
                graph.delete_interaction("p0")
                if reindex:  # drops and refills the collection: both wait too
                    assert graph.reindex() == 12
            assert added == ["p10", "p11", "p12"]
            assert "cannot be reached" in caplog.text
            assert graph.get_interaction("p11").prompt_id == "p11"  # the store has it
            with pytest.raises(StoreLockedError, match="run a Qdrant server"):
                graph.search("anything")
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(timeout=30)
        # Back: the next search pushes the waiting changes first.
        found = graph.get_similar_prompts(interaction(11).prompt_text, 50)
        assert found[0] == "p11"
        assert sorted(found) == sorted(f"p{i}" for i in range(1, 13))
        assert "reachable again" in caplog.text
    assert _points(tmp_path) == {f"p{i}" for i in range(1, 13)}


def test_changes_the_collection_missed_are_restored_at_open(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(20))
    # Writes Qdrant never saw, as when a process dies with changes waiting.
    with MemoryGraph(**{**_options(tmp_path), "vector_backend": "numpy"}) as other:
        other.batch_add(interactions(5, 20))
        other.delete_session("session-1")
    stored = {f"p{i}" for i in range(25) if i % 4 != 1}
    assert _points(tmp_path) == {f"p{i}" for i in range(20)}
    with MemoryGraph(**_options(tmp_path)) as reopened:
        assert set(reopened.get_similar_prompts("anything at all", 50)) == stored
    assert _points(tmp_path) == stored


def test_the_first_write_to_a_new_store_replaces_a_leftover_point(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(10))
    for leftover in tmp_path.glob("graph.json*"):
        if leftover.is_file():  # the store is gone; its Qdrant folder stays behind
            leftover.unlink()
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.add_interaction(
            {"id": "p1", "text": "tomato soup for a cold evening"},
            {"id": "r1", "text": "simmer"},
            {"id": "a"},
            "s",
        )
        hits = graph.search("tomato soup for a cold evening", 1)
    assert [hit.id for hit in hits] == ["p1"]
    assert hits[0].score > 0.99  # the new prompt's vector, not the old store's


def test_sync_pushes_what_the_collection_lacks(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(8))
        with MemoryGraph(**{**_options(tmp_path), "vector_backend": "numpy"}) as other:
            other.batch_add(interactions(4, 8))
            other.delete_interaction("p3")
        assert "p9" not in graph.get_similar_prompts(interaction(9).prompt_text, 20)
        graph.sync()
        found = graph.get_similar_prompts(interaction(9).prompt_text, 20)
        assert found[0] == "p9"
        assert sorted(found) == sorted(f"p{i}" for i in range(12) if i != 3)


def test_an_unreachable_server_fails_fast_and_keeps_the_writes(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    options = _options(tmp_path, qdrant_url=url)
    began = time.monotonic()
    with MemoryGraph(**options) as graph:
        assert _add(graph, 1) == "p1"  # stored; the vectors wait for the server
        with pytest.raises(StoreUnavailableError, match=f"Qdrant at {url} cannot be reached"):
            graph.search("anything")
        assert graph.stats()["interactions"] == 1
    with MemoryGraph(**options) as reopened:  # opens: the reconciliation waits for the server
        assert _add(reopened, 2) == "p2"
        with pytest.raises(StoreUnavailableError, match=url):
            reopened.get_similar_prompts("anything")
    assert time.monotonic() - began < 20
    # The store is the source of truth: the same store in local mode gets every vector.
    with MemoryGraph(**_options(tmp_path)) as local:
        assert local.get_similar_prompts(interaction(1).prompt_text, 5)[0] == "p1"
        assert len(local.get_similar_prompts("anything", 5)) == 2


def test_a_second_process_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    options = _options(tmp_path)
    code = (
        "import sys, json\n"
        "from raeburnmemory.memory_graph import MemoryGraph\n"
        "from raeburnmemory.core.errors import RaeburnMemoryError\n"
        "try:\n"
        "    MemoryGraph(**json.loads(sys.argv[1]))\n"
        "except RaeburnMemoryError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    with MemoryGraph(**options) as graph:
        _add(graph, 1)
        began = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-c", code, json.dumps(options)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert time.monotonic() - began < 30
        assert out.stdout.startswith("StoreLockedError ")
        assert str(_folder(tmp_path)) in out.stdout
        assert "run a Qdrant server" in out.stdout
        assert "RAEBURN_QDRANT_URL" in out.stdout
        assert graph.get_similar_prompts(interaction(1).prompt_text, 5) == ["p1"]
    # Closed: the folder is free for the other process now.
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(options)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""


def test_graphs_of_one_process_share_one_client_and_free_the_folder(tmp_path: Path) -> None:
    first = MemoryGraph(**_options(tmp_path))
    second = MemoryGraph(**_options(tmp_path))
    _add(first, 1)
    assert second.get_similar_prompts(interaction(1).prompt_text, 1) == ["p1"]
    first.close()
    _add(second, 2)  # still open: the shared client outlives the first graph
    assert len(second.get_similar_prompts("anything", 10)) == 2
    second.close()
    assert _points(tmp_path) == {"p1", "p2"}  # the last close freed the folder


def test_a_shard_removed_by_someone_else_is_rebuilt(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(6))
        _pool.close_all()  # let the shard go, as at exit, and remove it
        shutil.rmtree(_shard_path(tmp_path))
        _add(graph, 6)
        assert sorted(graph.get_similar_prompts("anything", 20)) == sorted(
            f"p{i}" for i in range(7)
        )


def _foreign_shard(path: Path, size: int, distance: Distance, points: int = 0) -> None:
    shard = EdgeShard.create(str(path), EdgeConfig(vectors=EdgeVectorParams(size, distance)))
    if points:
        shard.update(
            UpdateOperation.upsert_points(
                [Point(i + 1, [0.1] * size, {"x": i}) for i in range(points)]
            )
        )
    shard.close()


def test_a_shard_raeburnmemory_did_not_make_is_left_alone(tmp_path: Path) -> None:
    _foreign_shard(_shard_path(tmp_path, "theirs"), 16, Distance.Dot)
    _foreign_shard(_shard_path(tmp_path, "full"), 384, Distance.Cosine, points=1)
    graph = MemoryGraph(**_options(tmp_path, collection="theirs"))
    with pytest.raises(ConfigurationError, match=r"'theirs'.*16-dimensional.*384 dimensions"):
        _add(graph, 1)  # the shard is opened with the first vectors
    graph.close()
    with pytest.raises(ConfigurationError, match=r"'full'.*1 points not made by raeburnmemory"):
        MemoryGraph(**_options(tmp_path, collection="full"))
    full = EdgeShard.load(str(_shard_path(tmp_path, "full")))
    assert full.info().points_count == 1
    full.close()
    config = json.loads((_shard_path(tmp_path, "theirs") / "edge_config.json").read_text())
    assert config["vectors"][""]["size"] == 16


def test_a_shard_of_another_encoder_is_rebuilt_from_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(5))
    marker = _folder(tmp_path) / "shards" / "graph_json.json"
    marker.write_text(json.dumps({"raeburnmemory": {"format": 1, "dim": 384, "encoder": "old"}}))
    with (
        caplog.at_level(logging.WARNING, logger="raeburnmemory.qdrant"),
        MemoryGraph(**_options(tmp_path)) as graph,
    ):
        assert graph.get_similar_prompts(interaction(3).prompt_text, 1) == ["p3"]
    assert "rebuilding it from the store" in caplog.text
    assert "old" not in marker.read_text()


def test_a_closed_index_says_so(tmp_path: Path) -> None:
    from raeburnmemory.core.registry import load_storage_backend
    from raeburnmemory.qdrant import QdrantVectors

    store = load_storage_backend("json").open(str(tmp_path / "graph.json"))
    try:
        index = QdrantVectors.create(dim=8, store=store, options={})
        index.close()
        index.close()
        with pytest.raises(StoreError, match="closed"):
            len(index)
    finally:
        store.close()
