"""The JSON store's metadata columns answer filters as the reference does, while it is written
by this process and by another one, across additions, replacements, deletions and rebuilds."""

from __future__ import annotations

from pathlib import Path

import pytest

from raeburnmemory.core.json_store import JsonStore, _metadata_columns
from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.model import EncoderInfo, Interaction
from raeburnmemory.core.testing.data import interaction, unit_vectors
from raeburnmemory.core.where import Where

_FILTERS = [{"user": "ana"}, {"n": {"$gte": 5}}, {"user": {"$ne": "ana"}, "n": {"$lt": 30}}]


def _reference(store: JsonStore, mapping: dict[str, object]) -> list[str]:
    where = Where.parse(mapping)
    return [item.prompt_id for item in store.iter_interactions() if where.matches(item.metadata)]


def _check(store: JsonStore) -> None:
    for mapping in _FILTERS:
        query = ListQuery(where=Where.parse(mapping))
        assert store.matching_ids(query) == _reference(store, mapping), mapping
        assert store.count_matching(query) == len(_reference(store, mapping)), mapping


def _items(start: int, count: int, user: str = "ana") -> list[Interaction]:
    return [
        interaction(i, metadata={"user": user if i % 3 else "bob", "n": i})
        for i in range(start, start + count)
    ]


@pytest.mark.parametrize("rebuild_from", [1000, 2])
def test_columns_keep_in_step_with_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rebuild_from: int
) -> None:
    monkeypatch.setattr(_metadata_columns, "_REBUILD_FROM", rebuild_from)
    path = str(tmp_path / "graph.json")
    with JsonStore.open(path) as store, JsonStore.open(path) as other:
        store.set_encoder_info(EncoderInfo("test", 8))
        other.refresh()
        store.add(_items(0, 20), unit_vectors(20, 8))
        _check(store)  # built
        store.add(_items(20, 5, user="eve"), unit_vectors(5, 8, seed=1))
        _check(store)  # the new ones are in the tail
        changed = interaction(4, prompt_text="changed", metadata={"user": "zed", "n": 99})
        store.replace([changed], unit_vectors(1, 8, seed=2))
        _check(store)  # the replaced row no longer matches its record
        store.delete(["p7", "p21"])
        _check(store)
        other.add(_items(40, 6), unit_vectors(6, 8, seed=3))
        other.delete(["p1"])
        store.refresh()
        _check(store)  # another process's writes
        assert "p4" not in store.matching_ids(ListQuery(where=Where.parse({"user": "ana"})))
        assert store.matching_ids(ListQuery(where=Where.parse({"user": "zed"}))) == ["p4"]
