"""The HNSW graph is copied beside the store, read back at the next open, never trusted blindly."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faiss")

from raeburnmemory.core import _hnsw_copy
from raeburnmemory.core.errors import ExportTargetError
from raeburnmemory.core.faiss_index import FaissIndex, _HnswGraph
from raeburnmemory.memory_graph import MemoryGraph

TOPICS = [
    "bread",
    "garden",
    "rust",
    "python",
    "travel",
    "invoice",
    "kettle",
    "haiku",
    "alps",
    "budget",
]


def item(i: int, text: str | None = None) -> dict[str, Any]:
    """One interaction, numbered."""
    words = f"{TOPICS[i % 10]} {TOPICS[(i * 7) % 10]} question {i} word{i}"
    return {
        "prompt": {"id": f"p{i}", "text": text or words},
        "response": {"id": f"r{i}", "text": f"answer {i}"},
        "agent": {"id": "a"},
        "session_id": f"s{i % 3}",
    }


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Copy even small graphs, and count the labels each graph build adds."""
    monkeypatch.setattr(FaissIndex, "copy_from", 0)
    sizes: list[int] = []
    original = _HnswGraph.add

    def counted(self: _HnswGraph, ids: Any, vectors: Any, payloads: Any) -> None:
        sizes.append(len(ids))
        original(self, ids, vectors, payloads)

    monkeypatch.setattr(_HnswGraph, "add", counted)
    return sizes


TEXT_12 = item(12)["prompt"]["text"]


def hnsw(path: Path) -> MemoryGraph:
    """A graph on the JSON store at ``path`` with the HNSW index."""
    return MemoryGraph(path, embedding_model=None, vector_backend="faiss", index="hnsw")


def build_and_copy(path: Path) -> None:
    """Record 300 prompts with HNSW and search once: the graph is built and copied."""
    with hnsw(path) as memory:
        memory.batch_add(item(i) for i in range(300))
        memory.get_similar_prompts("anything", 1)


def test_the_graph_is_built_once_then_read_back(tmp_path: Path, built: list[int]) -> None:
    path = tmp_path / "graph.json"
    with hnsw(path) as memory:
        memory.batch_add(item(i) for i in range(300))
        first = memory.get_similar_prompts(TEXT_12, 3)
    assert first[0] == "p12"
    assert Path(f"{path}.hnsw").is_file()
    built.clear()
    with hnsw(path) as memory:
        assert memory.get_similar_prompts(TEXT_12, 3) == first
        assert memory.get_similar_prompts(item(206)["prompt"]["text"], 1) == ["p206"]
    assert built == []  # nothing was added to the graph: it was read back whole


def test_a_stale_copy_never_returns_deleted_or_changed_prompts(
    tmp_path: Path, built: list[int]
) -> None:
    path = tmp_path / "graph.json"
    build_and_copy(path)
    # Another writer, without HNSW: deletes, replaces p5's text, adds new prompts.
    with MemoryGraph(path, embedding_model=None, vector_backend="numpy") as other:
        for i in range(20, 30):
            other.delete_interaction(f"p{i}")
        other.delete_interaction("p5")
        other.add_interaction(**unpacked(item(5, text="tomato soup recipe for winter")))
        for i in range(300, 310):
            other.add_interaction(**unpacked(item(i)))
    built.clear()
    with (
        hnsw(path) as memory,
        MemoryGraph(path, embedding_model=None, vector_backend="numpy") as exact,
    ):
        for query in (
            item(20)["prompt"]["text"],
            "tomato soup for winter",
            item(5)["prompt"]["text"],
        ):
            found = memory.search(query, 10)
            assert len(found) == 10  # the index itself returned no deleted prompt
            assert not {hit.id for hit in found} & {f"p{i}" for i in range(20, 30)}
            expected = {hit.id: hit.score for hit in exact.search(query, 300)}
            for hit in found:  # every score is the store's current vector's
                assert hit.score == pytest.approx(expected[hit.id], abs=1e-5)
        assert memory.get_similar_prompts("tomato soup recipe for winter", 1) == ["p5"]
        assert memory.get_similar_prompts(item(305)["prompt"]["text"], 1) == ["p305"]
    assert built == [11]  # only what the copy lacked was added: ten new prompts and the new p5


def unpacked(body: dict[str, Any]) -> dict[str, Any]:
    """``add_interaction``'s keyword arguments from an item."""
    return {
        "prompt": body["prompt"],
        "response": body["response"],
        "agent": body["agent"],
        "session_id": body["session_id"],
    }


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_an_unreadable_copy_is_rebuilt_and_replaced(
    tmp_path: Path, built: list[int], damage: str
) -> None:
    path = tmp_path / "graph.json"
    build_and_copy(path)
    copy = Path(f"{path}.hnsw")
    whole = copy.read_bytes()
    copy.write_bytes(
        {"garbage": b"not a graph" * 50, "truncated": whole[:-500], "empty": b""}[damage]
    )
    built.clear()
    with hnsw(path) as memory:
        assert memory.get_similar_prompts(TEXT_12, 1) == ["p12"]
    assert built == [300]
    assert _hnsw_copy.read(copy, dim=384, m=32) is not None


def test_a_copy_built_with_other_parameters_is_not_used(tmp_path: Path, built: list[int]) -> None:
    path = tmp_path / "graph.json"
    build_and_copy(path)
    built.clear()
    with MemoryGraph(
        path, embedding_model=None, vector_backend="faiss", index="hnsw", hnsw_m=8
    ) as memory:
        assert memory.get_similar_prompts(TEXT_12, 1) == ["p12"]
    assert built == [300]


def test_small_graphs_are_not_copied(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    with hnsw(path) as memory:
        memory.batch_add(item(i) for i in range(50))
        memory.get_similar_prompts("anything", 1)
    assert not Path(f"{path}.hnsw").exists()


def test_a_temporary_copy_left_by_a_dead_writer_is_removed(
    tmp_path: Path, built: list[int]
) -> None:
    path = tmp_path / "graph.json"
    abandoned = tmp_path / "graph.json.hnsw.0123456789ab.tmp"
    recent = tmp_path / "graph.json.hnsw.ba9876543210.tmp"
    for temp in (abandoned, recent):
        temp.write_bytes(b"half a graph")
    os.utime(abandoned, (time.time() - 3600, time.time() - 3600))
    build_and_copy(path)
    assert not abandoned.exists()
    assert recent.exists()  # perhaps another process is writing it right now


def built_copy(folder: Path) -> tuple[Path, Path]:
    """A store in ``folder`` whose HNSW graph was built and copied: its path and the copy's."""
    path = folder / "graph.json"
    build_and_copy(path)
    return path, Path(f"{path}.hnsw")


def test_a_copy_whose_graph_bytes_were_damaged_is_not_used(
    tmp_path: Path, built: list[int]
) -> None:
    path, copy = built_copy(tmp_path)
    data = bytearray(copy.read_bytes())
    start = len(data) // 20  # in the neighbour lists, which come before the vectors
    data[start : start + 2048] = bytes(2048)
    copy.write_bytes(bytes(data))
    assert _hnsw_copy.read(copy, dim=384, m=32) is None
    built.clear()
    with hnsw(path) as memory:
        assert memory.get_similar_prompts(TEXT_12, 1) == ["p12"]
    assert built == [300]


def test_reindex_builds_the_graph_once_and_replaces_the_copy(
    tmp_path: Path, built: list[int]
) -> None:
    path = tmp_path / "graph.json"
    with hnsw(path) as memory:
        memory.batch_add(item(i) for i in range(300))
        memory.get_similar_prompts("anything", 1)
        built.clear()
        memory.reindex()
        assert built == [300]
        assert memory.get_similar_prompts(TEXT_12, 1) == ["p12"]
    assert _hnsw_copy.read(Path(f"{path}.hnsw"), dim=384, m=32) is not None


def test_a_copy_is_removed_once_the_graph_is_too_small_to_need_one(
    tmp_path: Path, built: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FaissIndex, "copy_from", 200)
    path = tmp_path / "graph.json"
    build_and_copy(path)
    assert Path(f"{path}.hnsw").exists()
    with hnsw(path) as memory:
        memory.get_similar_prompts("anything", 1)
        for i in range(150):
            memory.delete_interaction(f"p{i}")
    assert not Path(f"{path}.hnsw").exists()


def test_export_never_writes_over_the_copy_or_a_copy_being_written(
    tmp_path: Path, built: list[int]
) -> None:
    path, copy = built_copy(tmp_path)
    being_written = Path(f"{copy}.0123456789ab.tmp")
    being_written.write_bytes(b"half a graph")
    before = (copy.read_bytes(), copy.stat().st_ino)
    for options in ({"index": "hnsw"}, {"index": "flat"}):
        with MemoryGraph(path, embedding_model=None, vector_backend="faiss", **options) as memory:
            for target in (copy, being_written):
                with pytest.raises(ExportTargetError, match="a file of the store"):
                    memory.export(target)
    assert (copy.read_bytes(), copy.stat().st_ino) == before
    assert being_written.read_bytes() == b"half a graph"
