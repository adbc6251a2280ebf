"""Qdrant Edge specifics: the HNSW build at export() and reindex(), filters for both engines,
and folders written by earlier versions (qdrant-client's local mode)."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient, models

from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.testing import interaction, interactions
from raeburnmemory.qdrant import _edge, _points, _pool, _server
from raeburnmemory.qdrant.settings import resolve_settings

QUERIES = [interaction(i).prompt_text for i in (3, 17, 41)]


def _options(tmp_path: Path, backend: str = "qdrant") -> dict[str, Any]:
    return {
        "db_path": str(tmp_path / "graph.json"),
        "embedding_model": None,
        "vector_backend": backend,
    }


def _indexed(tmp_path: Path) -> tuple[int, int]:
    """The shard's point count and how many of them its HNSW index covers (shard must be free)."""
    lease = _pool.acquire(resolve_settings(str(tmp_path / "graph.json"), {}))
    try:
        shard = lease.shard.shard()
        assert shard is not None
        info = shard.info()
        return info.points_count, info.indexed_vectors_count
    finally:
        lease.release()


def _answers(graph: MemoryGraph) -> list[list[tuple[str, float]]]:
    found = []
    for text in QUERIES:
        for filters in ({}, {"session_id": "session-2"}, {"agent_id": "agent-1"}):
            hits = graph.search(text, 5, **filters)
            found.append([(hit.id, round(hit.score, 4)) for hit in hits])
    return found


@pytest.mark.parametrize("upkeep", ["export", "reindex"])
def test_upkeep_builds_the_hnsw_index_past_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upkeep: str
) -> None:
    monkeypatch.setattr(_edge, "HNSW_THRESHOLD", 100)
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(300))
        before = _answers(graph)
        getattr(graph, upkeep)()
        after = _answers(graph)
    assert _indexed(tmp_path) == (300, 300)
    # Small enough for the HNSW search to find the exact neighbours: the same scores (prompts
    # with equal scores may come in another order).
    assert [[score for _, score in row] for row in after] == [
        [score for _, score in row] for row in before
    ]
    assert all(len(row) == 5 for row in after)


def test_below_the_threshold_nothing_is_built(tmp_path: Path) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(300))
        graph.export()
    assert _indexed(tmp_path) == (300, 0)  # searched exactly, by a scan


@pytest.mark.parametrize(
    "flt",
    [
        SearchFilter(session_id="s"),
        SearchFilter(agent_id="a", since=1.5),
        SearchFilter(until=9.0),
        SearchFilter(session_id="s", agent_id="a", since=1.0, until=2.0),
    ],
)
def test_both_engines_translate_one_filter_description(flt: SearchFilter) -> None:
    server = _server.to_filter(flt)
    edge = _edge.to_filter(flt)
    assert server is not None
    assert edge is not None
    assert server.must is not None
    assert edge.must is not None

    def described(condition: Any) -> tuple[Any, ...]:
        if condition.match is not None:
            return (condition.key, "match", condition.match.value)
        return (condition.key, "range", condition.range.gte, condition.range.lte)

    assert [described(c) for c in server.must] == [described(c) for c in edge.must]
    assert _server.to_filter(SearchFilter()) is None
    assert _edge.to_filter(None) is None


def _legacy_folder(tmp_path: Path, stored: int) -> Path:
    """A store of ``stored`` interactions, and beside it a folder as earlier versions wrote it:
    raeburnmemory's collection (out of step with the store), and someone else's."""
    with MemoryGraph(**_options(tmp_path, backend="numpy")) as graph:
        graph.batch_add(interactions(stored))
    folder = tmp_path / "graph.json.qdrant"
    client = QdrantClient(path=str(folder))
    params = models.VectorParams(size=384, distance=models.Distance.COSINE)
    client.create_collection(
        "graph_json",
        vectors_config=params,
        metadata={"raeburnmemory": {"format": 1, "dim": 384, "encoder": "old-run"}},
    )
    client.upsert(
        "graph_json", points=[models.PointStruct(id=7, vector=[0.1] * 384, payload={"a": 1})]
    )
    client.create_collection("theirs", vectors_config=params)
    client.close()
    return folder


def test_a_folder_of_the_earlier_local_mode_is_rebuilt_from_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _legacy_folder(tmp_path, stored=12)
    with (
        caplog.at_level(logging.WARNING, logger="raeburnmemory.qdrant"),
        MemoryGraph(**_options(tmp_path)) as graph,
    ):
        found = graph.get_similar_prompts(interaction(5).prompt_text, 20)
    assert found[0] == "p5"
    assert sorted(found) == sorted(f"p{i}" for i in range(12))
    assert "written by an earlier version" in caplog.text
    meta = json.loads((folder / "meta.json").read_text())
    assert list(meta["collections"]) == ["theirs"]  # someone else's stays
    assert not (folder / "collection" / "graph_json").exists()
    assert (folder / "collection" / "theirs").is_dir()
    assert _indexed(tmp_path)[0] == 12


def test_an_earlier_local_mode_still_in_use_is_left_in_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _legacy_folder(tmp_path, stored=4)
    holder = QdrantClient(path=str(folder))  # an earlier version's process, still running
    try:
        with (
            caplog.at_level(logging.WARNING, logger="raeburnmemory.qdrant"),
            MemoryGraph(**_options(tmp_path)) as graph,
        ):
            assert len(graph.get_similar_prompts("anything", 10)) == 4
        assert "still in use by another process" in caplog.text
        assert (folder / "collection" / "graph_json").is_dir()
    finally:
        holder.close()
    with MemoryGraph(**_options(tmp_path)) as graph:  # the next open removes it
        assert len(graph.get_similar_prompts("anything", 10)) == 4
    assert not (folder / "collection" / "graph_json").exists()


def test_point_ids_are_the_name_based_uuids_of_the_prompt_ids() -> None:
    for prompt in ["p1", "", "héllo wörld", "x" * 300, "a/b:c"]:
        assert _points.point_id(prompt) == str(uuid.uuid5(_points.POINT_NAMESPACE, prompt))


def test_a_shard_that_cannot_be_read_is_rebuilt_from_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with MemoryGraph(**_options(tmp_path)) as graph:
        graph.batch_add(interactions(10))
    config = tmp_path / "graph.json.qdrant" / "shards" / "graph_json" / "edge_config.json"
    config.write_text("{ not json")
    with (
        caplog.at_level(logging.WARNING, logger="raeburnmemory.qdrant"),
        MemoryGraph(**_options(tmp_path)) as graph,
    ):
        assert len(graph.get_similar_prompts("anything", 20)) == 10
    assert "cannot be opened" in caplog.text


_WRITE_AND_WAIT = """
import json, sys, time
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing import interactions
graph = MemoryGraph(**json.loads(sys.argv[1]))
graph.batch_add(interactions(40))
print("added", flush=True)
time.sleep(120)
"""


def test_a_process_killed_before_a_flush_loses_nothing(tmp_path: Path) -> None:
    options = _options(tmp_path)
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITE_AND_WAIT, json.dumps(options)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "added"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    with MemoryGraph(**options) as graph:
        found = graph.get_similar_prompts(interaction(7).prompt_text, 50)
    assert found[0] == "p7"
    assert sorted(found) == sorted(f"p{i}" for i in range(40))
