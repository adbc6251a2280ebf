"""The SQLite store answers a metadata filter from column arrays only while the database is
unchanged: writes through the same store, through another store object and in bulk are seen."""

from __future__ import annotations

from pathlib import Path

from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.model import EncoderInfo, Interaction
from raeburnmemory.core.testing.data import interaction, unit_vectors
from raeburnmemory.core.where import Where
from raeburnmemory.sqlite.store import SQLiteStore

_FILTERS = [{"user": "ana"}, {"n": {"$gte": 5}}, {"user": {"$ne": "ana"}, "n": {"$lt": 30}}]


def _items(start: int, count: int, user: str = "ana") -> list[Interaction]:
    return [
        interaction(i, metadata={"user": user if i % 3 else "bob", "n": i})
        for i in range(start, start + count)
    ]


def _check(store: SQLiteStore) -> None:
    """Every filter twice (the second may use the columns), as the reference says."""
    for mapping in _FILTERS:
        where = Where.parse(mapping)
        expected = [i.prompt_id for i in store.iter_interactions() if where.matches(i.metadata)]
        for _ in range(2):
            assert store.matching_ids(ListQuery(where=where)) == expected, mapping


def test_columns_never_answer_for_a_changed_database(tmp_path: Path) -> None:
    path = str(tmp_path / "graph.db")
    with SQLiteStore.open(path) as store, SQLiteStore.open(path) as other:
        store.set_encoder_info(EncoderInfo("test", 8))
        store.add(_items(0, 20), unit_vectors(20, 8))
        _check(store)
        store.add(_items(20, 5, user="eve"), unit_vectors(5, 8, seed=1))
        _check(store)  # this store's own write
        other.add(_items(40, 6), unit_vectors(6, 8, seed=2))
        _check(store)  # another connection's
        other.delete(["p1", "p41"])
        _check(store)
        changed = interaction(4, prompt_text="changed", metadata={"user": "zed"})
        other.replace([changed], unit_vectors(1, 8, seed=3))
        _check(store)
        assert store.matching_ids(ListQuery(where=Where.parse({"user": "zed"}))) == ["p4"]
