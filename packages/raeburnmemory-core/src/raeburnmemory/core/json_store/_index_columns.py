"""A snapshot index's columns, read by position: the JSON store's records made on demand.

The map's index lists, column by column, each interaction of the snapshot: prompt, response,
session and agent ids, timestamp (text and seconds), where its nodes sit in the snapshot, the
agents' names and attributes and the expiry times. :class:`IndexColumns` keeps those lists as
they were read and makes the record at a position when it is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raeburnmemory.core.json_store._stored import NodeSource, StoredInteraction
from raeburnmemory.core.model import VectorPayload

__all__ = ["IndexColumns"]


class IndexColumns:
    """A snapshot index's columns, from which the record at a position is made."""

    __slots__ = (
        "agent_ids",
        "agents",
        "expiry",
        "first_seq",
        "overrides",
        "prompts",
        "response_ids",
        "seconds",
        "session_ids",
        "source",
        "spans",
        "stamps",
    )

    def __init__(self, index: Mapping[str, Any], source: NodeSource, seq: int) -> None:
        """Take the columns (``KeyError``/``TypeError``/``ValueError`` when they are wrong)."""
        self.source = source
        self.first_seq = seq  # the record at position p gets number seq + p + 1
        self.prompts: list[str] = index["prompts"]
        self.response_ids: list[str | None] = index["responses"]
        self.session_ids: list[str] = index["sessions"]
        self.agent_ids: list[str] = index["agents"]
        self.stamps: list[str] = index["stamps"]
        self.spans: list[int] = index["spans"]
        count = len(self.prompts)
        self.seconds: list[float] | None = index.get("times") or None
        sizes = {len(column) for column in (self.response_ids, self.session_ids, self.stamps)}
        if sizes | {len(self.agent_ids)} != {count} or len(self.spans) != 2 * count:
            raise ValueError("the snapshot index's columns differ in length")
        if self.seconds is not None and len(self.seconds) != count:
            raise ValueError("the snapshot index's times column differs in length")
        agent_nodes: Mapping[str, list[Any]] = index["agent_nodes"]
        self.agents = {aid: (entry[0], entry[1] or {}) for aid, entry in agent_nodes.items()}
        overrides: Mapping[str, list[Any]] = index["agent_names"]
        self.overrides = {
            pid: (entry[0], entry[1] or {}) for pid, entry in (overrides or {}).items() if entry
        }
        expiry = index.get("expiry") or {}
        if not isinstance(expiry, dict):
            raise TypeError("the snapshot index's expiry is not an object")
        self.expiry: dict[str, Any] = expiry
        self._check_agents()

    def _check_agents(self) -> None:
        """``KeyError`` when a record's agent is neither a node nor named for the record."""
        unknown = set(self.agent_ids).difference(self.agents)
        if not unknown:
            return
        for pid, agent_id in zip(self.prompts, self.agent_ids, strict=True):
            if agent_id in unknown and pid not in self.overrides:
                raise KeyError(agent_id)

    def ids(self, position: int) -> tuple[str, str | None, str, str]:
        """The prompt, response, session and agent ids at ``position``."""
        return (
            self.prompts[position],
            self.response_ids[position],
            self.session_ids[position],
            self.agent_ids[position],
        )

    def payload(self, position: int) -> VectorPayload:
        """The vector payload of the record at ``position``."""
        seconds = None if self.seconds is None else self.seconds[position]
        if seconds is None:
            return self.record(position).payload()
        return VectorPayload(self.session_ids[position], self.agent_ids[position], seconds)

    def payloads(self) -> list[VectorPayload]:
        """The vector payload of every record, in order."""
        if self.seconds is None:
            return [self.payload(position) for position in range(len(self.prompts))]
        return list(map(VectorPayload, self.session_ids, self.agent_ids, self.seconds))

    def record(self, position: int) -> StoredInteraction:
        """The record at ``position``, its nodes left in the snapshot file."""
        pid = self.prompts[position]
        agent = self.overrides.get(pid) or self.agents[self.agent_ids[position]]
        spans = self.spans
        record = StoredInteraction.lazy(
            (*self.ids(position), self.stamps[position]),
            agent,
            self.source,
            (spans[2 * position], spans[2 * position + 1]),
            None if self.seconds is None else self.seconds[position],
        )
        record.seq = self.first_seq + position + 1
        expires = self.expiry.get(pid)
        if isinstance(expires, str):
            record.expires = expires
        return record
