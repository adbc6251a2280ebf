"""The graph contract's cases about the session overview (:meth:`MemoryGraph.session_overview`).

Part of :class:`~raeburnmemory.core.testing.graph_contract.MemoryGraphContract`, which mixes it
in. Every page is checked against a brute-force summary of the interactions written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from raeburnmemory.core.errors import ConfigurationError, InvalidCursorError
from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.sessions import SessionPosition, SessionSummary, summarize
from raeburnmemory.core.store import Matrix, Store
from raeburnmemory.core.testing.data import interaction, interactions

__all__ = ["GraphSessionsContract", "check_a_store_groups_sessions"]

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


#: Arguments a call must refuse, with the error and words in its message.
Refusals = list[tuple[dict[str, Any], type[Exception], str]]


def _tampered(cursor: str) -> str:
    """``cursor`` with one character changed (its checksum no longer holds)."""
    return cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]


def _assert_each_refused(call: Callable[..., object], refused: Refusals) -> None:
    """Fail unless ``call`` raises each listed error, with its words, for each set of arguments."""
    for arguments, error, words in refused:
        with pytest.raises(error) as caught:
            call(**arguments)
        assert words in str(caught.value), arguments


def _expected(items: list[Interaction], **filters: Any) -> list[SessionSummary]:
    """Every summary of ``items`` under ``filters``, by brute force, in overview order."""
    query = ListQuery.build(
        None, filters.get("agent_id"), filters.get("since"), filters.get("until")
    )
    return summarize(items, query, None, len(items) + 1)


def _walk(graph: MemoryGraph, limit: int, **filters: Any) -> list[SessionSummary]:
    """Every page of an overview, joined (each page but the last exactly ``limit`` long)."""
    page = graph.session_overview(limit=limit, **filters)
    seen = list(page.items)
    while page.next_cursor is not None:
        assert len(page.items) == limit
        page = graph.session_overview(limit=limit, cursor=page.next_cursor, **filters)
        seen += page.items
    return seen


def _sessions(count: int, *, start: int = 0) -> list[Interaction]:
    """Sample interactions over seven sessions of different sizes and spans."""
    return [
        interaction(
            i,
            session_id=f"session-{(i * 3 + i // 4) % 7}",
            timestamp=_EPOCH + timedelta(seconds=i * 7 % count, microseconds=i),
        )
        for i in range(start, start + count)
    ]


# Ids whose byte order (UTF-8, as Python compares them) differs from most collations'.
_ODD_SESSION_IDS = [
    "alpha",
    "Beta",
    "beta",
    "\u00e9t\u00e9",
    "z",
    "\U0001f600",
    "\u4e2d\u6587",
    "a b",
]


def check_a_store_groups_sessions(
    store: Store, vectors: Matrix | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that ``store`` answers :meth:`Store.session_summaries` by itself (never reading
    every interaction), as the brute-force summary does, ties and odd ids included.

    ``vectors`` are 40 rows for the store's encoder, or ``None`` if it takes none.
    """
    moment = _EPOCH + timedelta(days=2)
    count = len(_ODD_SESSION_IDS)
    items = [
        interaction(
            i,
            session_id=_ODD_SESSION_IDS[i % count],
            # Sessions 0 and 1, 2 and 3, ... tie on their last activity.
            timestamp=moment + timedelta(seconds=(i % count) // 2, microseconds=i // count),
        )
        for i in range(40)
    ]
    store.add(items, vectors)

    def refuse() -> Any:
        raise AssertionError("the overview read every interaction instead of grouping them")

    monkeypatch.setattr(store, "iter_interactions", refuse)
    for query in (ListQuery(), ListQuery.build(agent_id="agent-1")):
        expected = summarize(items, query, None, 100)
        assert store.session_summaries(query, None, 100) == expected
        after = SessionPosition.of(expected[2])
        assert store.session_summaries(query, after, 3) == expected[3:6]


class GraphSessionsContract:
    """Session summaries, newest activity first, paged with cursors, on a MemoryGraph."""

    def test_an_empty_store_has_no_sessions(self, graph: MemoryGraph) -> None:
        page = graph.session_overview()
        assert (page.items, page.next_cursor) == ([], None)

    def test_summaries_match_a_brute_force_count(self, graph: MemoryGraph) -> None:
        items = _sessions(40)
        graph.batch_add(items)
        since, until = _EPOCH + timedelta(seconds=5), _EPOCH + timedelta(seconds=30)
        cases: list[dict[str, Any]] = [
            {},
            {"agent_id": "agent-1"},
            {"since": since},
            {"until": until.isoformat()},
            {"agent_id": "agent-2", "since": since, "until": until},
            {"agent_id": "nobody"},
        ]
        for filters in cases:
            expected = _expected(items, **filters)
            for limit in (1, 3, 7, 100):
                assert _walk(graph, limit, **filters) == expected, (filters, limit)
        first = graph.session_overview(limit=1).items[0]
        newest = max(items, key=lambda item: (item.timestamp, item.session_id))
        assert first.session_id == newest.session_id
        assert first.last == newest.timestamp
        assert first.agents == tuple(sorted(first.agents))
        assert sum(s.interactions for s in graph.session_overview().items) == len(items)

    def test_ties_on_the_last_activity_go_by_session_id(self, graph: MemoryGraph) -> None:
        moment = _EPOCH + timedelta(hours=1)
        graph.batch_add([interaction(i, session_id=f"tie-{i}", timestamp=moment) for i in range(5)])
        assert [s.session_id for s in _walk(graph, 2)] == [f"tie-{i}" for i in (4, 3, 2, 1, 0)]

    def test_a_cursor_stands_while_others_write_now(
        self, graph: MemoryGraph, options: dict[str, Any]
    ) -> None:
        items = _sessions(40)
        graph.batch_add(items)
        expected = _expected(items)
        page = graph.session_overview(limit=3)
        seen = list(page.items)
        # Another instance adds to the oldest session and starts a new one, both later than
        # anything listed (as records timestamped at the moment they are made are).
        later = _EPOCH + timedelta(days=1)
        with MemoryGraph(**options) as other:
            oldest = expected[-1].session_id
            other.batch_add(
                [
                    interaction(100, prefix="late", session_id=oldest, timestamp=later),
                    interaction(101, prefix="late", session_id="brand-new", timestamp=later),
                ]
            )
        while page.next_cursor is not None:
            page = graph.session_overview(limit=3, cursor=page.next_cursor)
            seen += page.items
        assert seen == expected, "a session moved between pages, or its summary changed"
        fresh = graph.session_overview(limit=2).items
        assert {s.session_id for s in fresh} == {oldest, "brand-new"}

    def test_bad_cursors_and_arguments_are_refused(self, graph: MemoryGraph) -> None:
        graph.batch_add(_sessions(20))
        cursor = graph.session_overview(limit=2, agent_id="agent-1").next_cursor
        assert cursor is not None
        graph.session_overview(limit=2, agent_id="agent-1", cursor=cursor)
        listing = graph.interactions(limit=2, agent_id="agent-1").next_cursor
        refused: Refusals = [
            ({"cursor": _tampered(cursor), "agent_id": "agent-1"}, InvalidCursorError, "altered"),
            ({"cursor": cursor}, InvalidCursorError, "other filters"),
            ({"cursor": listing, "agent_id": "agent-1"}, InvalidCursorError, "cursor"),
            ({"cursor": "not a cursor!"}, InvalidCursorError, "cursor"),
            ({"limit": 0}, ConfigurationError, "limit"),
            ({"limit": 10_001}, ConfigurationError, "limit"),
            ({"since": "yesterday"}, ConfigurationError, "since"),
            ({"agent_id": 7}, ConfigurationError, "agent_id"),
        ]
        _assert_each_refused(graph.session_overview, refused)

    def test_session_overview_async(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(6, sessions=2))
        page = asyncio.run(graph.session_overview_async(limit=1))
        assert [s.session_id for s in page.items] == ["session-1"]
        assert page.items[0].interactions == 3

    def test_expired_interactions_are_left_out(self, graph: MemoryGraph) -> None:
        past = datetime(2020, 1, 1, tzinfo=timezone.utc)
        items = [
            interaction(0, session_id="mixed", timestamp=_EPOCH),
            interaction(1, session_id="mixed", timestamp=_EPOCH + timedelta(hours=2)),
            interaction(2, session_id="gone", timestamp=_EPOCH + timedelta(hours=3)),
            interaction(3, session_id="alive", timestamp=_EPOCH + timedelta(hours=1)),
        ]
        graph.batch_add(items)
        for prompt_id, session in (("p1", "mixed"), ("p2", "gone")):
            graph.add_interaction(
                {"id": f"late-{prompt_id}", "text": "soon gone"},
                "x",
                "agent-9",
                session,
                timestamp=_EPOCH + timedelta(hours=5),
                expires_at=past,
            )
        graph.forget(where={"n": 2})
        summaries = _walk(graph, 1)
        assert [(s.session_id, s.interactions, s.agents) for s in summaries] == [
            ("mixed", 2, ("agent-0", "agent-1")),
            ("alive", 1, ("agent-0",)),
        ]
        assert summaries[0].last == _EPOCH + timedelta(hours=2)
