"""The parts of MemoryGraph on their own: the index keeper and the searcher, on real JSON stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.errors import ConfigurationError, EmbeddingMismatchError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.memory._encoding import encode
from raeburnmemory.core.memory._index_keeper import IndexKeeper
from raeburnmemory.core.memory._searcher import Searcher, SearchRequest
from raeburnmemory.core.model import EncoderInfo, Interaction
from raeburnmemory.core.records import make_interaction
from raeburnmemory.core.store import Store

ENCODER = HashingEncoder(64)


def _item(n: int, text: str) -> Interaction:
    return make_interaction(
        {"id": f"p{n}", "text": text}, {"id": f"r{n}", "text": "ok"}, {"id": "a"}, "s"
    )


def _add(store: Store, *items: Interaction) -> list[str]:
    if store.encoder_info() is None:
        store.set_encoder_info(EncoderInfo(ENCODER.name, ENCODER.dim))
    return store.add(items, encode(ENCODER, [item.prompt_text for item in items]))


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two handles on one JSON store: this graph's and another writer's."""
    path = str(tmp_path / "graph.json")
    ours, theirs = JsonStore.open(path), JsonStore.open(path)
    yield ours, theirs
    ours.close()
    theirs.close()


def _keeper(store: Store) -> IndexKeeper:
    return IndexKeeper.choose(type(store), "json", "numpy", {})


def _found(keeper: IndexKeeper, store: Store, text: str) -> list[str]:
    searcher = Searcher(ENCODER, keeper)
    request = SearchRequest.checked(text, 1)
    return [pid for pid, _ in searcher.ranked(store, request, searcher.query_vector(request))]


def test_the_index_is_built_on_first_need_and_follows_other_writers(
    stores: tuple[Store, Store],
) -> None:
    ours, theirs = stores
    keeper = _keeper(ours)
    assert keeper.ensure(ours) is None  # no encoder recorded: nothing to build
    _add(ours, _item(1, "bake bread"))
    assert not keeper.catch_up(ours)  # this object's own write is not another writer's
    index = keeper.ensure(ours)
    assert index is not None
    assert len(index) == 1
    assert keeper.ensure(ours) is index
    _add(theirs, _item(2, "tune a database"))
    assert keeper.catch_up(ours)
    assert len(index) == 2
    assert _found(keeper, ours, "tune a database") == ["p2"]
    theirs.delete(["p2"])
    assert keeper.catch_up(ours)
    assert len(index) == 1
    assert not keeper.catch_up(ours)


def test_own_writes_build_the_index_or_reach_it(stores: tuple[Store, Store]) -> None:
    ours, _ = stores
    keeper = _keeper(ours)
    first = _item(1, "bake bread")
    keeper.add_own(ours, [first], encode(ENCODER, ["bake bread"]), _add(ours, first))
    index = keeper.index
    assert index is not None  # built from the store, the new interaction included
    assert len(index) == 1
    items = [_item(1, "bake bread"), _item(2, "tune a database")]
    added = _add(ours, *items)
    assert added == ["p2"]
    keeper.add_own(ours, items, encode(ENCODER, [item.prompt_text for item in items]), added)
    assert len(index) == 2
    keeper.remove(["p1"])
    assert _found(keeper, ours, "bake bread") == ["p2"]


def test_a_search_can_answer_now_only_from_a_built_index_with_nothing_unread(
    stores: tuple[Store, Store],
) -> None:
    ours, theirs = stores
    keeper = _keeper(ours)
    _add(ours, _item(1, "bake bread"))
    assert not keeper.can_search_now(ours, "vector")  # the index is still to be built
    keeper.ensure(ours)
    assert keeper.can_search_now(ours, "vector")
    assert not keeper.can_search_now(ours, "keyword")
    assert not keeper.can_search_now(ours, "hybrid")
    _add(theirs, _item(2, "tune a database"))
    assert ours.catching_up_may_wait()
    assert not keeper.can_search_now(ours, "vector")  # another writer's change is unread
    keeper.catch_up(ours)
    assert keeper.can_search_now(ours, "vector")
    keeper.close()
    assert keeper.index is None
    assert not keeper.can_search_now(ours, "vector")


def test_a_reindex_swaps_in_an_index_of_the_new_vectors(stores: tuple[Store, Store]) -> None:
    ours, _ = stores
    keeper = _keeper(ours)
    _add(ours, _item(1, "bake bread"), _item(2, "tune a database"))
    old = keeper.ensure(ours)
    wider = HashingEncoder(32)
    info = EncoderInfo(wider.name, wider.dim)
    ours.replace_vectors([(["p1", "p2"], encode(wider, ["bake bread", "tune a database"]))], info)
    keeper.after_reindex(ours, info)
    assert keeper.index is not None
    assert keeper.index is not old
    assert keeper.index.dim == 32
    assert len(keeper.index) == 2
    # The searcher of the old encoder is refused; one of the new encoder finds the prompt.
    with pytest.raises(EmbeddingMismatchError):
        _found(keeper, ours, "tune a database")
    searcher = Searcher(wider, keeper)
    request = SearchRequest.checked("tune a database", 1)
    assert searcher.ranked(ours, request, searcher.query_vector(request))[0][0] == "p2"


def test_the_keeper_keeps_only_the_index_options() -> None:
    pytest.importorskip("faiss")
    keeper = IndexKeeper.choose(JsonStore, "json", "faiss", {"index": "flat", "fsync": True})
    assert keeper.options == {"index": "flat"}
    assert keeper.backend == "faiss"
    assert not keeper.native
    with pytest.raises(ConfigurationError, match=r"unknown option\(s\) colour.*known options"):
        IndexKeeper.choose(JsonStore, "json", "numpy", {"colour": "red"})
    with pytest.raises(ConfigurationError, match="storage_backend='sqlite'"):
        IndexKeeper.choose(JsonStore, "json", "sqlite-vec", {})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"text": "x", "top_k": 1, "mode": "vector", "weight": 0.5}, "only for mode='hybrid'"),
        ({"text": " ", "top_k": 1, "mode": "bogus", "weight": 0.5}, "only for mode='hybrid'"),
        ({"text": " ", "top_k": 0, "mode": "bogus"}, "the search text is empty"),
        ({"text": "x", "top_k": True, "mode": "bogus"}, "top_k must be an integer"),
        ({"text": "x", "top_k": 1, "mode": "bogus"}, "mode must be one of"),
    ],
)
def test_a_search_request_names_its_first_bad_argument(
    arguments: dict[str, Any], message: str
) -> None:
    text, top_k = arguments.pop("text"), arguments.pop("top_k")
    with pytest.raises(ConfigurationError, match=message):
        SearchRequest.checked(text, top_k, **arguments)
