"""The store contract's cases about listing and counting (:meth:`Store.page`,
:meth:`Store.count_matching`, :meth:`Store.matching_ids`).

Part of :class:`~raeburnmemory.core.testing.store_contract.StoreContract`, which mixes it in.
Every answer is compared with a brute-force evaluation: :meth:`ListQuery.matches` over every
stored interaction, sorted by :class:`Position`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given

from raeburnmemory.core.listing import ListQuery, Position
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing.data import interaction, unit_vectors
from raeburnmemory.core.testing.examples import contract_settings
from raeburnmemory.core.testing.where_strategies import cases
from raeburnmemory.core.where import Where

__all__ = ["ListingContract"]

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
_DIM = 32


def _sample(index: int, **changes: Any) -> Interaction:
    """The ``index``-th sample, its time out of insertion order and shared by several
    interactions (so ties are broken by prompt id), with ids that sort otherwise than numbers."""
    fields: dict[str, Any] = {
        "timestamp": _EPOCH + timedelta(seconds=(7 * index) % 5, microseconds=index % 2),
        "metadata": {"n": index, "even": index % 2 == 0, "tag": ["a", "b", "c"][index % 3]},
    }
    fields.update(changes)
    return interaction(index, prefix=f"id-{(index * 37) % 101:03d}-", **fields)


def _fill(store: Store, items: list[Interaction], seed: int = 0) -> None:
    store.add(items, unit_vectors(len(items), _DIM, seed=seed))


def _expected(store: Store, query: ListQuery, *, descending: bool = False) -> list[str]:
    chosen = [item for item in store.iter_interactions() if query.matches(item)]
    chosen.sort(key=Position.of, reverse=descending)
    return [item.prompt_id for item in chosen]


def _walk(store: Store, query: ListQuery, limit: int, *, descending: bool = False) -> list[str]:
    """Every page of a listing, joined."""
    seen: list[str] = []
    after: Position | None = None
    while True:
        page = store.page(query, after, limit, descending=descending)
        assert len(page) <= limit
        seen += [item.prompt_id for item in page]
        if len(page) < limit:
            return seen
        after = Position.of(page[-1])


_QUERIES = [
    ListQuery(),
    ListQuery(session_id="session-1"),
    ListQuery(agent_id="agent-2"),
    ListQuery(session_id="session-0", agent_id="agent-0"),
    ListQuery(since=_EPOCH + timedelta(seconds=1), until=_EPOCH + timedelta(seconds=3)),
    ListQuery(since=_EPOCH + timedelta(seconds=2, microseconds=1)),
    ListQuery(until=_EPOCH + timedelta(seconds=2)),
    ListQuery(where=Where.parse({"even": True})),
    ListQuery(where=Where.parse({"n": {"$gte": 10}, "tag": {"$in": ["a", "c"]}})),
    ListQuery(session_id="session-2", where=Where.parse({"$or": [{"tag": "b"}, {"n": 3}]})),
    ListQuery(session_id="no-such-session"),
    ListQuery(where=Where.parse({"missing": {"$exists": True}})),
]


class ListingContract:
    """Listing and counting: order, filters, limits, positions that survive other writers."""

    @pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
    def test_paging_returns_every_record_once_in_order(
        self, store: Store, descending: bool
    ) -> None:
        _fill(store, [_sample(i) for i in range(23)])
        expected = _expected(store, ListQuery(), descending=descending)
        assert len(expected) == 23
        for limit in (1, 4, 23, 50):
            assert _walk(store, ListQuery(), limit, descending=descending) == expected

    @pytest.mark.parametrize("query", _QUERIES)
    def test_filters_select_what_brute_force_selects(self, store: Store, query: ListQuery) -> None:
        _fill(store, [_sample(i) for i in range(30)])
        for descending in (False, True):
            expected = _expected(store, query, descending=descending)
            assert _walk(store, query, 3, descending=descending) == expected
            assert [item.prompt_id for item in store.page(query, None, 1000)] == (
                expected if not descending else expected[::-1]
            )
        assert store.count_matching(query) == len(_expected(store, query))
        assert sorted(store.matching_ids(query)) == sorted(_expected(store, query))

    def test_pages_give_whole_interactions(self, store: Store) -> None:
        items = [_sample(i, agent_name=f"name {i}", prompt_attrs={"k": i}) for i in range(3)]
        _fill(store, items)
        by_id = {item.prompt_id: item for item in items}
        for found in store.page(ListQuery(), None, 10):
            assert found == by_id[found.prompt_id]

    def test_listing_a_compacted_store_from_another_instance(
        self, store: Store, opened: Callable[..., Store]
    ) -> None:
        _fill(store, [_sample(i) for i in range(90)])
        store.compact()
        other = opened()
        query = ListQuery(since=_EPOCH + timedelta(seconds=1), where=Where.parse({"tag": "b"}))
        found = [item.prompt_id for item in other.page(query, None, 1000)]
        counted = other.count_matching(query)
        assert found == _expected(other, query)
        assert counted == len(found) > 0

    def test_count_without_filters_is_the_store_count(self, store: Store) -> None:
        assert store.count_matching(ListQuery()) == 0
        _fill(store, [_sample(i) for i in range(9)])
        store.delete([_sample(4).prompt_id])
        assert store.count_matching(ListQuery()) == store.count() == 8

    def test_a_position_survives_another_writer(
        self, store: Store, opened: Callable[..., Store]
    ) -> None:
        """Between two pages, a second instance (as another process would) adds records before
        and after the position and deletes some: nothing that existed at the start and is still
        there is skipped or repeated."""
        reader = store
        writer = opened()
        _fill(reader, [_sample(i) for i in range(40)])
        at_start = _expected(reader, ListQuery())
        first = reader.page(ListQuery(), None, 15)
        after = Position.of(first[-1])
        seen = [item.prompt_id for item in first]
        ahead = [at_start[20], at_start[21], at_start[39]]
        deleted = [at_start[3], *ahead]
        assert sorted(writer.delete(deleted)) == sorted(deleted)
        _fill(writer, [_sample(i) for i in range(40, 60)], seed=1)  # interleaved with the rest
        while True:
            page = reader.page(ListQuery(), after, 7)
            seen += [item.prompt_id for item in page]
            if len(page) < 7:
                break
            after = Position.of(page[-1])
        assert len(seen) == len(set(seen)), "a record came twice"
        missing = [pid for pid in at_start if pid not in seen and pid not in deleted]
        assert not missing, f"skipped: {missing}"
        assert not set(ahead) & set(seen), "a record deleted ahead of the position came"

    @contract_settings(25)
    @given(case=cases())
    def test_random_filters_list_and_count_as_matches(
        self, store: Store, case: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    ) -> None:
        records, filters = case
        store.delete([item.prompt_id for item in store.iter_interactions()])
        _fill(store, [_sample(i, metadata=meta) for i, meta in enumerate(records)])
        for mapping in filters:
            query = ListQuery(session_id="session-1" if len(mapping) % 2 else None)
            query = ListQuery(query.session_id, where=Where.parse(mapping))
            expected = _expected(store, query)
            assert _walk(store, query, 2) == expected, mapping
            assert [item.prompt_id for item in store.page(query, None, 100, descending=True)] == (
                expected[::-1]
            ), mapping
            assert store.count_matching(query) == len(expected), mapping
