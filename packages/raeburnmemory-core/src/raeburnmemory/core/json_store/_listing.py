"""Listing and counting the JSON store's interactions from its state in memory.

A session or agent filter starts from that session's or agent's members; the time window is
read from each record's timestamp text; metadata filters are answered by the metadata's column
arrays (:class:`~raeburnmemory.core.json_store._metadata_columns.MetadataColumns`). Only the
interactions of the page are built.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager

from raeburnmemory.core.json_store._metadata_columns import MetadataColumns
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.listing import ListQuery, Position, micros
from raeburnmemory.core.model import Interaction, parse_timestamp

#: A record's place in time order: its timestamp in microseconds and its prompt id.
_Key = tuple[int, str]

__all__ = ["JsonListing", "selected"]


def _candidates(state: GraphState, query: ListQuery) -> list[StoredInteraction]:
    """The records the session or agent filter leaves, in insertion order."""
    if query.session_id is not None:
        members: Iterable[str] = state.by_session.get(query.session_id, {})
    elif query.agent_id is not None:
        members = state.by_agent.get(query.agent_id, {})
    else:
        return list(state.records.values())
    return [state.records[pid] for pid in members]


@functools.lru_cache(maxsize=1 << 17)
def _micros_of(timestamp_text: str) -> int:
    """A stored timestamp's text in microseconds (remembered: pages read the same ones)."""
    return micros(parse_timestamp(timestamp_text))


def selected(
    state: GraphState, query: ListQuery, columns: MetadataColumns
) -> Iterator[tuple[_Key, StoredInteraction]]:
    """Every record passing ``query`` with its key in time order (timestamp in microseconds,
    prompt id), in insertion order; ``columns`` answer its metadata filter."""
    since, until = query.since_micros, query.until_micros
    chosen: list[tuple[_Key, StoredInteraction]] = []
    for record in _candidates(state, query):
        if query.session_id is not None and record.session_id != query.session_id:
            continue
        if query.agent_id is not None and record.agent_id != query.agent_id:
            continue
        moment = _micros_of(record.timestamp_text)
        if (since is not None and moment < since) or (until is not None and moment > until):
            continue
        chosen.append(((moment, record.prompt_id), record))
    if query.where is not None:
        passing = set(columns.matching(state, query.where))
        chosen = [(position, record) for position, record in chosen if record.prompt_id in passing]
    return iter(chosen)


class JsonListing:
    """The listing methods of :class:`~raeburnmemory.core.json_store.JsonStore`."""

    _reading: Callable[[], AbstractContextManager[GraphState]]
    _metadata_columns: MetadataColumns

    def page(
        self,
        query: ListQuery,
        after: Position | None,
        limit: int,
        *,
        descending: bool = False,
    ) -> list[Interaction]:
        """Interactions passing ``query`` after ``after``, in time order (only the page's
        interactions are built)."""
        with self._reading() as state:
            rows = selected(state, query, self._metadata_columns)
            if after is not None:
                start = (after.micros, after.prompt_id)
                rows = (
                    (key, record)
                    for key, record in rows
                    if (key < start if descending else key > start)
                )
            choose = heapq.nlargest if descending else heapq.nsmallest
            best = choose(limit, rows, key=lambda row: row[0])
            return [record.interaction() for _, record in best]

    def count_matching(self, query: ListQuery) -> int:
        """How many interactions pass ``query`` (no reading at all when it selects all)."""
        with self._reading() as state:
            if query.is_empty:
                return len(state)
            return sum(1 for _ in selected(state, query, self._metadata_columns))

    def matching_ids(self, query: ListQuery) -> list[str]:
        """The prompt ids of the interactions passing ``query``, in insertion order."""
        with self._reading() as state:
            if query.where is not None and query == ListQuery(where=query.where):
                return self._metadata_columns.matching(state, query.where)  # no times to read
            rows = selected(state, query, self._metadata_columns)
            return [record.prompt_id for _, record in rows]
