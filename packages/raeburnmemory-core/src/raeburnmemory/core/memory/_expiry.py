"""What reads leave out once interactions expire, and how long a graph's records live.

An interaction whose ``expires_at`` has come is still in the store until
:meth:`MemoryGraph.purge_expired` (or :meth:`MemoryGraph.export`) removes it, but no read returns
it: these helpers take the store's answer and leave the expired interactions out. Each asks the
store for the expired prompt ids once (:meth:`Store.expired_ids`, indexed by every store), so a
memory where nothing expires pays one cheap look per read.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.model import Agent, Interaction, Link, utc_now
from raeburnmemory.core.store import Store

__all__ = ["Expired", "parse_ttl"]


def parse_ttl(value: Any) -> timedelta | None:
    """``ttl=``: seconds (a positive number) or a positive ``timedelta``; ``None`` for none."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        ttl = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        ttl = timedelta(seconds=value)
    else:
        raise ConfigurationError(f"ttl must be seconds or a timedelta, not {value!r}")
    if ttl <= timedelta(0):
        raise ConfigurationError(f"ttl must be more than zero, not {value!r}")
    return ttl


class Expired:
    """The interactions of a store that have expired now, and the reads without them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.now = utc_now()
        self.ids = frozenset(store.expired_ids(self.now))

    def __bool__(self) -> bool:
        return bool(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def keep_in(items: Collection[Interaction]) -> list[Interaction]:
        """``items`` without those expired now (no look at the store)."""
        now = utc_now()
        return [item for item in items if not item.is_expired(now)]

    def keep(self, items: Collection[Interaction]) -> list[Interaction]:
        """``items`` without the expired ones."""
        return [item for item in items if not item.is_expired(self.now)]

    def links(self, links: list[Link]) -> list[Link]:
        """``links`` without those that touch an expired prompt."""
        hidden = self.ids
        return [link for link in links if link.source not in hidden and link.target not in hidden]

    def matching(self, query: ListQuery) -> int:
        """How many expired interactions pass ``query``."""
        return sum(1 for item in self.store.get_many(sorted(self.ids)) if query.matches(item))

    def sessions(self) -> list[str]:
        """The store's sessions, without those whose every interaction expired."""
        every = self.store.sessions()
        if not self.ids:
            return every
        touched = {item.session_id for item in self.store.get_many(sorted(self.ids))}
        gone = {sid for sid in touched if not self.keep(self.store.session(sid))}
        return [sid for sid in every if sid not in gone]

    def agents(self) -> list[Agent]:
        """The store's agents, without those whose every interaction expired."""
        every = self.store.agents()
        if not self.ids:
            return every
        touched = {item.agent_id for item in self.store.get_many(sorted(self.ids))}
        gone = set()
        for agent_id in touched:
            members = self.store.matching_ids(ListQuery.build(None, agent_id, None, None, None))
            if set(members) <= self.ids:
                gone.add(agent_id)
        return [agent for agent in every if agent.id not in gone]

    def stats(self) -> dict[str, int]:
        """The store's counts, the expired interactions (and what only they hold) left out."""
        counts = dict(self.store.stats())
        if self.ids:
            counts["interactions"] -= len(self.ids)
            counts["sessions"] = len(self.sessions())
            counts["agents"] = len(self.agents())
            counts["links"] = len(self.links(self.store.links()))
        return counts
