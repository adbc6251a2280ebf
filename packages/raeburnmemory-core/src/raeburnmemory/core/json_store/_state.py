"""The JSON store's graph in memory: every stored interaction, its lookups and the links."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_store._column_mapping import ColumnMapping
from raeburnmemory.core.json_store._index_columns import IndexColumns
from raeburnmemory.core.json_store._stored import NodeSource, StoredInteraction
from raeburnmemory.core.model import Agent, Link, VectorPayload

__all__ = ["GraphState"]

_Members = dict[str, dict[str, None]]


class GraphState:
    """Every stored interaction, indexed by prompt, response, session and agent."""

    def __init__(self) -> None:
        #: prompt id -> record, in insertion order (a snapshot's records made when asked for)
        self.records: ColumnMapping[StoredInteraction] = ColumnMapping()
        self._columns: IndexColumns | None = None  # the snapshot index the records came from
        self.links: dict[tuple[str, str, str], None] = {}
        #: prompt id -> ``expires_at`` (ISO text) of the records that expire
        self.expiring: dict[str, str] = {}
        self._links_of: dict[str, set[tuple[str, str, str]]] = {}
        self._seq = 0
        # response -> prompt, session -> prompts, agent -> prompts; built on first use
        self._tables: tuple[dict[str, str], _Members, _Members] | None = (
            {},
            {},
            {},
        )

    def _lookups(self) -> tuple[dict[str, str], _Members, _Members]:
        if self._tables is None:
            responses: dict[str, str] = {}
            by_session: _Members = {}
            by_agent: _Members = {}
            for pid, response_id, session_id, agent_id in self._ids():
                if response_id is not None:
                    responses[response_id] = pid
                by_session.setdefault(session_id, {})[pid] = None
                by_agent.setdefault(agent_id, {})[pid] = None
            self._tables = (responses, by_session, by_agent)
        return self._tables

    def _ids(self) -> Iterator[tuple[str, str | None, str, str]]:
        """The prompt, response, session and agent ids of every record, in order (from the
        snapshot's index for the records not made yet)."""
        columns = self._columns
        for position, record in self.records.walk():
            if record is not None:
                yield record.prompt_id, record.response_id, record.session_id, record.agent_id
            else:
                assert columns is not None
                yield columns.ids(position)

    def payloads(self, prompt_ids: Sequence[str]) -> list[VectorPayload]:
        """The vector payloads of these stored prompts (from the snapshot's index for the
        records not made yet; ``KeyError`` for a prompt not stored)."""
        records, columns = self.records, self._columns
        if columns is None:
            return [records[pid].payload() for pid in prompt_ids]
        if records.untouched and prompt_ids == columns.prompts:
            return columns.payloads()
        payload = columns.payload
        return [
            payload(found) if isinstance(found, int) else found.payload()
            for found in records.values_or_positions(prompt_ids)
        ]

    @property
    def responses(self) -> dict[str, str]:
        """Response id -> prompt id."""
        return self._lookups()[0]

    @property
    def by_session(self) -> _Members:
        """Session id -> its prompt ids in insertion order."""
        return self._lookups()[1]

    @property
    def by_agent(self) -> _Members:
        """Agent id -> its prompt ids in insertion order."""
        return self._lookups()[2]

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self.records

    @property
    def last_seq(self) -> int:
        """The number given to the latest record added: it grows with every add, never shrinks."""
        return self._seq

    def add(self, record: StoredInteraction) -> None:
        """Insert a record (replacing one with the same prompt id)."""
        pid = record.prompt_id
        if pid in self.records:
            self.remove(pid)
        self._seq += 1
        record.seq = self._seq
        self.records[pid] = record
        if record.expires is not None:
            self.expiring[pid] = record.expires
        if self._tables is not None:
            responses, by_session, by_agent = self._tables
            if record.response_id is not None:
                responses[record.response_id] = pid
            by_session.setdefault(record.session_id, {})[pid] = None
            by_agent.setdefault(record.agent_id, {})[pid] = None

    def fill_from_nodes(
        self,
        prompts: list[dict[str, Any]],
        responses: Mapping[str, dict[str, Any]],
        agents: Mapping[str, tuple[str | None, dict[str, Any]]],
        overrides: Mapping[str, list[Any]],
    ) -> None:
        """Fill an empty state from a snapshot's nodes (``KeyError``/``TypeError`` if wrong)."""
        records = self.records
        seq = self._seq
        for node in prompts:
            override = overrides.get(node["key"]) if overrides else None
            name, agent_attrs = override if override else agents[node["agent_id"]]
            seq += 1
            answer = None if node["response_id"] is None else responses[node["response_id"]]
            record = StoredInteraction(seq, node, answer, name, agent_attrs)
            if not isinstance(record.timestamp_text, str):
                raise TypeError(f"prompt {record.prompt_id!r} has no timestamp")
            records[record.prompt_id] = record
            if record.expires is not None:
                self.expiring[record.prompt_id] = record.expires
        self._seq = seq
        self._tables = None
        if len(records) != len(prompts):
            raise ValueError("a prompt id appears twice")

    def fill_from_snapshot_index(self, index: Mapping[str, Any], source: NodeSource) -> None:
        """Fill an empty state from a snapshot's index; each record is made when first asked
        for, and its nodes are read when first needed (``KeyError``/``TypeError``/``ValueError``
        if the index is wrong)."""
        columns = IndexColumns(index, source, self._seq)
        records: ColumnMapping[StoredInteraction] = ColumnMapping(columns.prompts, columns.record)
        if not records.index_is_unique():
            raise ValueError("a prompt id appears twice")
        self.records = records
        self._columns = columns
        for pid, expires in columns.expiry.items():
            if isinstance(expires, str) and pid in records:
                self.expiring[pid] = expires
        self._seq += len(columns.prompts)
        self._tables = None
        for source_id, target_id, relation in index["links"]:
            if source_id in records and target_id in records:
                self.add_link(Link(source_id, target_id, relation))

    def materialize(self, records: list[StoredInteraction] | None = None) -> None:
        """Read the nodes of lazy records (all of them by default) in one pass over the file."""
        lazy = [r for r in (self.records.values() if records is None else records) if r.is_lazy]
        if len(lazy) < 64:
            for record in lazy:
                record.prompt  # noqa: B018 - reads the nodes
            return
        by_source: dict[int, list[StoredInteraction]] = {}
        for record in lazy:
            by_source.setdefault(id(record._source), []).append(record)
        for group in by_source.values():
            source = group[0]._source
            assert source is not None
            start = min(r._span[0] for r in group)
            end = max(r._span[0] + r._span[1] for r in group)
            nodes = source.node_range(start, end)
            wanted = {r.prompt_id: r for r in group}
            try:
                for first, second in _node_groups(nodes):
                    record = wanted.pop(first.get("key"), None)  # type: ignore[arg-type]
                    if record is not None:
                        record.fill(first, second)
            except ValueError as exc:
                raise CorruptStoreError(source.path, str(exc)) from None
            for record in wanted.values():  # not where the index said: read it alone
                record.prompt  # noqa: B018

    def remove(self, prompt_id: str) -> bool:
        """Forget an interaction and its links; False if it was not there."""
        record = self.records.pop(prompt_id, None)
        if record is None:
            return False
        self.expiring.pop(prompt_id, None)
        if self._tables is not None:
            responses, by_session, by_agent = self._tables
            if record.response_id is not None:
                responses.pop(record.response_id, None)
            for index, key in ((by_session, record.session_id), (by_agent, record.agent_id)):
                members = index[key]
                members.pop(prompt_id, None)
                if not members:
                    del index[key]
        for link_key in self._links_of.pop(prompt_id, set()):
            self.links.pop(link_key, None)
            other = link_key[1] if link_key[0] == prompt_id else link_key[0]
            self._links_of.get(other, set()).discard(link_key)
        return True

    def links_of(self, prompt_ids: Sequence[str]) -> list[Link]:
        """The caller-made links from or to any of ``prompt_ids``, in the order they were made."""
        keys = {key for pid in prompt_ids for key in self._links_of.get(pid, ())}
        return [Link(*key) for key in self.links if key in keys]

    def add_link(self, link: Link) -> bool:
        """StoredInteraction a link between two stored prompts; False if it is there already."""
        key = (link.source, link.target, link.relation)
        if key in self.links:
            return False
        self.links[key] = None
        self._links_of.setdefault(link.source, set()).add(key)
        self._links_of.setdefault(link.target, set()).add(key)
        return True

    def _first_seq(self, members: dict[str, None]) -> int:
        return self.records[next(iter(members))].seq

    def sessions(self) -> list[str]:
        """Session ids in order of their first remaining interaction."""
        return sorted(self.by_session, key=lambda sid: self._first_seq(self.by_session[sid]))

    def session(self, session_id: str) -> list[StoredInteraction]:
        """A session's records by timestamp, then insertion."""
        members = [self.records[pid] for pid in self.by_session.get(session_id, {})]
        self.materialize(members)
        return sorted(members, key=lambda rec: rec.timestamp)

    def agents(self) -> list[Agent]:
        """Agents in order of first appearance, each with its latest known name and attributes.

        An interaction that gives no name (or no attributes) leaves the earlier ones known.
        """
        result = []
        for agent_id in sorted(self.by_agent, key=lambda a: self._first_seq(self.by_agent[a])):
            name: str | None = None
            attrs: Mapping[str, Any] = {}
            for pid in reversed(self.by_agent[agent_id]):
                record = self.records[pid]
                name = record.agent_name if name is None else name
                attrs = attrs or record.agent_attrs
                if name is not None and attrs:
                    break
            result.append(Agent(agent_id, name, dict(attrs)))
        return result

    def link_list(self) -> list[Link]:
        """Every caller-made link."""
        return [Link(*key) for key in self.links]

    def __iter__(self) -> Iterator[StoredInteraction]:
        """Every record, in insertion order (a copy: the state may change meanwhile)."""
        return iter(list(self.records.values()))

    def expired_ids(self, now: datetime) -> list[str]:
        """The prompt ids of the records whose expiry is ``now`` or earlier, in insertion order."""
        if not self.expiring:
            return []
        return [pid for pid in self.expiring if self.records[pid].is_expired(now)]

    def records_with_nodes(self) -> list[StoredInteraction]:
        """Every record, in order, with its nodes read."""
        self.materialize()
        return list(self.records.values())


def _node_groups(
    nodes: list[dict[str, Any]],
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each prompt node with the response node written after it (``None`` when it has none)."""
    position = 0
    while position < len(nodes):
        first = nodes[position]
        second = None
        if first.get("response_id") is not None and position + 1 < len(nodes):
            second = nodes[position + 1]
        position += 1 if second is None else 2
        yield first, second
