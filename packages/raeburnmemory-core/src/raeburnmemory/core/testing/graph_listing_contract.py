"""The graph contract's cases about listing, counting and forgetting
(:meth:`MemoryGraph.interactions`, :meth:`MemoryGraph.count`, :meth:`MemoryGraph.forget`).

Part of :class:`~raeburnmemory.core.testing.graph_contract.MemoryGraphContract`, which mixes it
in; a cursor is followed while a real subprocess writes the same store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from raeburnmemory.core.errors import (
    ConfigurationError,
    InvalidCursorError,
    InvalidFilterError,
)
from raeburnmemory.core.listing import Order
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.testing.data import interactions
from raeburnmemory.core.testing.graph_sessions_contract import (
    GraphSessionsContract,
    Refusals,
    _assert_each_refused,
    _tampered,
)

__all__ = ["GraphListingContract", "write_in_this_process"]

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _ordered(items: list[Interaction], *, descending: bool = False) -> list[str]:
    items = sorted(items, key=lambda item: (item.timestamp, item.prompt_id), reverse=descending)
    return [item.prompt_id for item in items]


def _walk(graph: MemoryGraph, limit: int, **filters: Any) -> list[str]:
    """Every page of a listing, joined (and each page no longer than ``limit``)."""
    page = graph.interactions(limit=limit, **filters)
    seen = [item.prompt_id for item in page.items]
    while page.next_cursor is not None:
        assert len(page.items) == limit
        page = graph.interactions(limit=limit, cursor=page.next_cursor, **filters)
        seen += [item.prompt_id for item in page.items]
    return seen


def _write_in_a_subprocess(options: dict[str, Any], prefix: str, count: int) -> None:
    """Add ``count`` sample interactions from another process, and wait for it."""
    from raeburnmemory.core.testing.graph_contract import _spawn  # it imports this module

    writer = _spawn(options, prefix, count, batch=5)
    _, errors = writer.communicate(timeout=300)
    assert writer.returncode == 0, errors


def write_in_this_process(options: dict[str, Any], prefix: str, count: int) -> None:
    """Add ``count`` sample interactions through another MemoryGraph of this process."""
    with MemoryGraph(**options) as graph:
        graph.batch_add(interactions(count, prefix=prefix))


class GraphListingContract(GraphSessionsContract):
    """Listing pages with cursors, counts and forgetting, on a MemoryGraph (and, mixed in, the
    session overview's cases)."""

    @pytest.mark.parametrize("order", ["asc", "desc"])
    def test_pages_come_in_time_order_until_no_cursor(
        self, graph: MemoryGraph, order: Order
    ) -> None:
        items = interactions(21, sessions=3)
        graph.batch_add(items)
        expected = _ordered(items, descending=order == "desc")
        for limit in (1, 7, 21, 100):
            assert _walk(graph, limit, order=order) == expected
        last = graph.interactions(limit=21, order=order)
        assert last.next_cursor is None
        assert len(last.items) == 21
        session = [item for item in items if item.session_id == "session-1"]
        assert _walk(graph, 2, order=order, session_id="session-1") == _ordered(
            session, descending=order == "desc"
        )

    def test_filters_of_a_listing_and_its_count(self, graph: MemoryGraph) -> None:
        items = interactions(30)
        graph.batch_add(items)
        since, until = _EPOCH + timedelta(seconds=5), _EPOCH + timedelta(seconds=20)
        cases: list[tuple[dict[str, Any], list[Interaction]]] = [
            ({}, items),
            ({"session_id": "session-2"}, [i for i in items if i.session_id == "session-2"]),
            ({"agent_id": "agent-1"}, [i for i in items if i.agent_id == "agent-1"]),
            ({"since": since, "until": until.isoformat()}, items[5:21]),
            ({"where": {"n": {"$in": [3, 4, 29]}}}, [items[3], items[4], items[29]]),
            ({"agent_id": "agent-0", "where": {"n": {"$gt": 10}}}, items[12::3]),
            ({"session_id": "nowhere"}, []),
        ]
        for filters, expected in cases:
            assert _walk(graph, 4, **filters) == _ordered(expected), filters
            assert graph.count(**filters) == len(expected), filters

    @pytest.mark.slow
    def test_a_cursor_survives_another_process_writing(
        self, graph: MemoryGraph, options: dict[str, Any]
    ) -> None:
        self.check_a_cursor_survives_other_writers(graph, options, _write_in_a_subprocess)

    def check_a_cursor_survives_other_writers(
        self,
        graph: MemoryGraph,
        options: dict[str, Any],
        write: Callable[[dict[str, Any], str, int], None],
    ) -> None:
        """Follow a cursor while another instance deletes and ``write(options, prefix, count)``
        adds sample interactions (from another process, unless the backend allows only one)."""
        graph.batch_add(interactions(30))
        at_start = _ordered(graph.interactions(limit=1000).items)
        page = graph.interactions(limit=10)
        seen = [item.prompt_id for item in page.items]
        with MemoryGraph(**options) as other:  # another instance deletes some
            deleted = [at_start[2], at_start[15], at_start[16], at_start[29]]
            assert other.forget(where={"n": {"$in": [2, 15, 16, 29]}}) == 4
        # and another writer adds 20 interactions whose times interleave with the first 30
        write(options, "w", 20)
        while page.next_cursor is not None:
            page = graph.interactions(limit=10, cursor=page.next_cursor)
            seen += [item.prompt_id for item in page.items]
        assert len(seen) == len(set(seen)), "an interaction came twice"
        assert [pid for pid in at_start if pid not in seen and pid not in deleted] == []
        assert not {at_start[15], at_start[16], at_start[29]} & set(seen)
        assert graph.count() == 46

    def test_bad_cursors_and_arguments_are_refused(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(12))
        cursor = graph.interactions(limit=2, session_id="session-1").next_cursor
        assert cursor is not None
        graph.interactions(limit=2, session_id="session-1", cursor=cursor)
        tampered = _tampered(cursor)
        refused: Refusals = [
            ({"cursor": tampered, "session_id": "session-1"}, InvalidCursorError, "altered"),
            ({"cursor": "not a cursor!"}, InvalidCursorError, "cursor"),
            ({"cursor": ""}, InvalidCursorError, "cursor"),
            ({"cursor": cursor}, InvalidCursorError, "other filters"),
            ({"limit": 0}, ConfigurationError, "limit"),
            ({"limit": True}, ConfigurationError, "limit"),
            ({"limit": 10_001}, ConfigurationError, "limit"),
            ({"order": "up"}, ConfigurationError, "order"),
            ({"since": "yesterday"}, ConfigurationError, "since"),
            ({"session_id": 3}, ConfigurationError, "session_id"),
            ({"where": {"n": {"$gt": "x"}}}, InvalidFilterError, 'where["n"]["$gt"]'),
        ]
        refused.append(
            (
                {"cursor": cursor, "session_id": "session-1", "order": "desc"},
                InvalidCursorError,
                "order",
            )
        )
        _assert_each_refused(graph.interactions, refused)
        assert issubclass(InvalidCursorError, ConfigurationError)
        with pytest.raises(InvalidFilterError):
            graph.count(where={"$and": []})

    def test_forget_deletes_every_match_everywhere(
        self, graph: MemoryGraph, options: dict[str, Any]
    ) -> None:
        items = interactions(24)
        graph.batch_add(items)
        with pytest.raises(ConfigurationError, match="everything=True"):
            graph.forget()
        with pytest.raises(InvalidFilterError):
            graph.forget(where={"n": {"$bad": 1}})
        assert graph.count() == 24
        assert graph.forget(where={"n": {"$lt": 4}}) == 4
        assert graph.forget(session_id="session-1") == 5  # 5, 9, 13, 17, 21
        assert graph.forget(agent_id="agent-2", where={"n": {"$gte": 20, "$lte": 22}}) == 1
        assert graph.forget(before=_EPOCH + timedelta(seconds=8)) == 3  # 4, 6, 7; not 8
        assert graph.forget(session_id="nowhere") == 0
        gone = {f"p{n}" for n in (0, 1, 2, 3, 4, 5, 6, 7, 9, 13, 17, 20, 21)}
        left = [item.prompt_id for item in items if item.prompt_id not in gone]
        assert _walk(graph, 100) == left
        found = set(graph.get_similar_prompts(items[1].prompt_text, top_k=24))
        assert found == set(left)
        with MemoryGraph(**options) as other:
            assert other.count() == len(left)
            assert set(other.get_similar_prompts(items[1].prompt_text, top_k=24)) == set(left)
            assert other.forget(everything=True) == len(left)
        assert graph.count() == 0
        assert graph.interactions().items == []

    def test_async_twins(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(5))

        async def run() -> tuple[int, int, int]:
            page = await graph.interactions_async(limit=2)
            counted = await graph.count_async(where={"n": {"$gte": 1}})
            forgotten = await graph.forget_async(where={"n": 0})
            return len(page.items), counted, forgotten

        assert asyncio.run(run()) == (2, 4, 1)
