"""A JSON store with its embedded Qdrant folder, written by raeburnmemory 0.1.0, works unchanged.

``fixtures/stores_0_1_0`` holds the store (``json-qdrant/``) and its Qdrant Edge folder as a
sparse tar (``json-qdrant.qdrant.tar.gz``: Qdrant preallocates 86 MB of holes), made by
``make_stores_0_1_0.py`` in raeburnmemory-core's test fixtures; ``expected.json`` holds what the
store contains. The store's own format and its refusal of newer versions are tested with the
JSON store in raeburnmemory-core; here, that the 0.1.0 shard is used as it is, and that a shard
(or a server's collection) whose marker records a newer format is refused and left alone.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from raeburnmemory.core import RaeburnMemoryError, StoreError
from raeburnmemory.core.encoders import resolve_encoder
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing.kept_stores import describe, expected_in
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.qdrant._marker import Found, decide
from raeburnmemory.qdrant.settings import QdrantSettings

FIXTURES = Path(__file__).parent / "fixtures" / "stores_0_1_0"
EXPECTED = expected_in(FIXTURES)
MARKER = Path("graph.json.qdrant") / "shards" / "graph_json.json"


def copy_of(tmp_path: Path) -> Path:
    """A copy of the store with its Qdrant folder (holes kept); returns its ``graph.json``."""
    folder = tmp_path / "json-qdrant"
    shutil.copytree(FIXTURES / "json-qdrant", folder)
    with tarfile.open(FIXTURES / "json-qdrant.qdrant.tar.gz") as archive:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12 and later
            archive.extractall(folder, filter="data")
        else:  # pragma: no cover - our own archive
            archive.extractall(folder)
    assert (folder / MARKER).is_file()
    return folder / "graph.json"


def graph_on(path: Path) -> MemoryGraph:
    """A MemoryGraph searching the store's embedded Qdrant shard."""
    return MemoryGraph(path, vector_backend="qdrant", create=False)


def test_the_shard_of_0_1_0_is_used_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = copy_of(tmp_path)
    marker = (path.parent / MARKER).read_bytes()
    with caplog.at_level(logging.INFO, logger="raeburnmemory.qdrant"), graph_on(path) as memory:
        assert memory.encoder_name == EXPECTED["encoder"]["name"]  # the one the store recorded
        found = describe(memory.store, EXPECTED)
        for key, value in EXPECTED.items():
            assert found[key] == value, key
        for item in EXPECTED["interactions"]:
            hits = memory.search(item["prompt_text"], 1)
            assert [hit.id for hit in hits] == [item["prompt_id"]]
            assert hits[0].score == pytest.approx(1.0, abs=1e-5)
            assert hits[0].to_dict()["metadata"] == item["metadata"]
        kitchen = memory.search("sourdough bread", 5, session_id="kitchen")
        assert {hit.session_id for hit in kitchen} == {"kitchen"}
        assert len(kitchen) == len(EXPECTED["sessions"]["kitchen"])
        by_ada = memory.search("sourdough bread", 10, agent_id="agent-ada")
        assert {hit.agent_id for hit in by_ada} == {"agent-ada"}
    assert not [r for r in caplog.records if "rebuild" in r.getMessage()]
    # Left as it was, but for the fingerprint of the rows it holds and the store's version
    # token, recorded at close.
    after = json.loads((path.parent / MARKER).read_bytes())
    assert "in_step" in after
    assert "store_version" in after
    del after["in_step"], after["store_version"]
    assert after == json.loads(marker)


def test_a_new_write_reaches_the_shard_and_is_kept(tmp_path: Path) -> None:
    path = copy_of(tmp_path)
    text = "Knead the dough again? Ça dépend."
    with graph_on(path) as memory:
        memory.add_interaction(
            {"id": "p15", "text": text},
            {"id": "r15", "text": "Only briefly."},
            {"id": "agent-böb"},
            "kitchen",
            timestamp="2026-02-01T00:00:00+00:00",
        )
        memory.delete_interaction("p01")
    with graph_on(path) as memory:
        assert [hit.id for hit in memory.search(text, 1)] == ["p15"]
        remaining = {hit.id for hit in memory.search("sourdough bread", 20)}
        assert remaining == {i["prompt_id"] for i in EXPECTED["interactions"]} - {"p01"} | {"p15"}
        stored = memory.store.load_vectors()
        vectors = dict(zip(stored.ids, stored.vectors, strict=True))
        expected = resolve_encoder(EXPECTED["encoder"]["name"]).encode([text])[0]
        assert vectors.pop("p15").tobytes() == expected.astype("<f4").tobytes()
        assert {
            pid: base64.b64encode(row.astype("<f4").tobytes()).decode()
            for pid, row in vectors.items()
        } == {pid: v for pid, v in EXPECTED["vectors"].items() if pid != "p01"}


def test_a_shard_marked_by_a_newer_format_is_not_used_as_it_is(tmp_path: Path) -> None:
    path = copy_of(tmp_path)
    marker_path = path.parent / MARKER
    marker = json.loads(marker_path.read_bytes())
    marker["raeburnmemory"]["format"] = 2
    marker_path.write_text(json.dumps(marker), encoding="utf-8")
    before = marker_path.read_bytes()
    with pytest.raises(RaeburnMemoryError) as caught:
        graph_on(path).close()
    message = str(caught.value)
    assert str(marker_path.parent.parent) in message
    assert "format 2" in message
    assert "format 1" in message.split("format 2", 1)[1]  # the one this version reads
    assert "delete the folder" in message  # how to rebuild it from the store
    assert marker_path.read_bytes() == before


def test_a_server_collection_marked_by_a_newer_format_is_refused() -> None:
    """A collection on a server takes the same decision; the message says which one to drop."""
    settings = QdrantSettings(collection="memory", url="http://qdrant.example:6333", api_key="k1")
    found = Found(
        size=32, distance="Cosine", cosine=True, ours=True, points=3, encoder="e", format=2
    )
    with pytest.raises(StoreError) as caught:
        decide(settings, "collection", found, 32, EncoderInfo("e", 32))
    message = str(caught.value)
    assert "'memory'" in message
    assert "http://qdrant.example:6333" in message
    assert "format 2" in message
    assert "format 1" in message.split("format 2", 1)[1]
    assert "delete the collection 'memory'" in message
    assert "k1" not in message
    assert decide(settings, "collection", replace(found, format=1), 32, EncoderInfo("e", 32)) == (
        "keep"
    )
