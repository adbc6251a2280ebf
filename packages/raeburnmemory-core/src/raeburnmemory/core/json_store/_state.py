"""The JSON store's view of its graph in memory: interactions, indexes and links.

Each interaction read from the snapshot is kept as its prompt and response nodes (so a snapshot
loads without converting anything), each one added since as the dict its journal line holds,
with the agent name and attributes the interaction was recorded with.
:class:`~raeburnmemory.core.model.Interaction` objects are built on demand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.layout import (
    PROMPT_FIELDS,
    RESPONSE_FIELDS,
    prompt_node,
    response_node,
)
from raeburnmemory.core.model import Agent, Interaction, Link, VectorPayload

__all__ = ["GraphState", "Record"]

_Members = dict[str, dict[str, None]]


class NodeSource(Protocol):
    """Where lazy records read their nodes: an open snapshot file."""

    path: Path

    def nodes(self, offset: int, length: int) -> list[dict[str, Any]]:
        """The nodes written at ``offset``."""

    def node_range(self, start: int, end: int) -> list[dict[str, Any]]:
        """Every node between two byte offsets."""


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class Record:
    """One stored interaction, with its insertion number.

    A record read from a snapshot keeps the snapshot's prompt and response nodes; one added
    since keeps the interaction's dict (:meth:`Interaction.to_dict`) and builds its nodes only
    when a snapshot is written, so an add does little besides writing its journal line.
    """

    __slots__ = (
        "_data",
        "_prompt",
        "_response",
        "_source",
        "_span",
        "agent_attrs",
        "agent_id",
        "agent_name",
        "prompt_id",
        "response_id",
        "seq",
        "session_id",
        "stamp",
        "time",
    )

    def __init__(
        self,
        seq: int,
        prompt: dict[str, Any],
        response: dict[str, Any],
        agent_name: str | None,
        agent_attrs: Mapping[str, Any],
    ) -> None:
        self.seq = seq
        self._prompt: dict[str, Any] | None = prompt
        self._response: dict[str, Any] | None = response
        self._data: Mapping[str, Any] | None = None
        self._source: NodeSource | None = None
        self._span = (0, 0)
        self.prompt_id: str = prompt["key"]
        self.response_id: str = response["key"]
        self.session_id: str = prompt["session_id"]
        self.agent_id: str = prompt["agent_id"]
        self.stamp: str = prompt["timestamp"]
        self.time: float | None = None
        self.agent_name = agent_name
        self.agent_attrs = agent_attrs

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """The record of an interaction given as :meth:`Interaction.to_dict` gives it."""
        record = cls.__new__(cls)
        record.seq = 0
        record._prompt = record._response = None
        record._data = data
        record._source = None
        record._span = (0, 0)
        record.prompt_id = data["prompt_id"]
        record.response_id = data["response_id"]
        record.session_id = data["session_id"]
        record.agent_id = data["agent_id"]
        record.stamp = data["timestamp"]
        record.time = None
        record.agent_name = data.get("agent_name")
        record.agent_attrs = data.get("agent_attrs") or {}
        return record

    @classmethod
    def lazy(
        cls,
        ids: tuple[str, str, str, str, str],
        agent: tuple[str | None, Mapping[str, Any]],
        source: NodeSource,
        span: tuple[int, int],
        time: float | None = None,
    ) -> Record:
        """A record whose nodes stay in the snapshot file until they are needed.

        ``ids`` are the prompt, response, session and agent ids and the timestamp; ``time`` is
        the timestamp in POSIX seconds when known.
        """
        record = cls.__new__(cls)
        record.seq = 0
        record._prompt = record._response = None
        record._data = None
        record._source = source
        record._span = span
        record.prompt_id, record.response_id, record.session_id, record.agent_id = ids[:4]
        record.stamp = ids[4]
        record.time = time
        record.agent_name, record.agent_attrs = agent
        return record

    @property
    def is_lazy(self) -> bool:
        """Whether the nodes are still in the snapshot file."""
        return self._prompt is None and self._data is None

    def fill(self, prompt: dict[str, Any], response: dict[str, Any]) -> None:
        """Take the nodes of a lazy record (``ValueError`` if they are not its own)."""
        if (
            prompt.get("kind") != "prompt"
            or prompt.get("key") != self.prompt_id
            or response.get("kind") != "response"
            or response.get("key") != self.response_id
            or not isinstance(prompt.get("text"), str)
            or not isinstance(response.get("text"), str)
        ):
            raise ValueError(f"the nodes of prompt {self.prompt_id!r} do not match the index")
        self._prompt, self._response = prompt, response

    def _materialize(self) -> None:
        source = self._source
        assert source is not None
        nodes = source.nodes(*self._span)
        try:
            if len(nodes) != 2:
                raise ValueError(f"expected 2 nodes for prompt {self.prompt_id!r}")
            self.fill(nodes[0], nodes[1])
        except ValueError as exc:
            raise CorruptStoreError(source.path, str(exc)) from None

    @classmethod
    def checked(cls, data: Mapping[str, Any]) -> Record:
        """:meth:`from_dict` for data read from a file: ``TypeError``/``ValueError`` if wrong."""
        record = cls.from_dict(data)
        texts = (
            record.prompt_id,
            record.response_id,
            record.session_id,
            record.agent_id,
            record.stamp,
            data["prompt_text"],
            data["response_text"],
        )
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("texts and ids must be strings")
        for key in ("metadata", "prompt_attrs", "response_attrs", "agent_attrs"):
            if not isinstance(data.get(key) or {}, dict):
                raise TypeError(f"{key} must be an object")
        record.timestamp  # noqa: B018 - parses, or raises ValueError
        return record

    @property
    def prompt(self) -> dict[str, Any]:
        """The prompt node."""
        if self._prompt is not None:
            return self._prompt
        data = self._data
        if data is None:
            self._materialize()
            assert self._prompt is not None
            return self._prompt
        return prompt_node(
            self.prompt_id,
            data["prompt_text"],
            self.stamp,
            data.get("metadata") or {},
            self.session_id,
            self.response_id,
            self.agent_id,
            data.get("prompt_attrs") or {},
        )

    @property
    def response(self) -> dict[str, Any]:
        """The response node."""
        if self._response is not None:
            return self._response
        data = self._data
        if data is None:
            self._materialize()
            assert self._response is not None
            return self._response
        return response_node(
            self.response_id,
            data["response_text"],
            self.prompt_id,
            data.get("response_attrs") or {},
        )

    @property
    def timestamp(self) -> datetime:
        """When the interaction happened (aware, UTC)."""
        return _time(self.stamp)

    def payload(self) -> VectorPayload:
        """The filter fields kept beside the prompt's vector."""
        if self.time is not None:
            return VectorPayload(self.session_id, self.agent_id, self.time)
        moment = datetime.fromisoformat(self.stamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return VectorPayload(self.session_id, self.agent_id, moment.timestamp())

    def interaction(self) -> Interaction:
        """The interaction, as it was added."""
        data = self._data
        if data is not None:
            texts = (data["prompt_text"], data["response_text"])
            metadata = data.get("metadata") or {}
            prompt_attrs = dict(data.get("prompt_attrs") or {})
            response_attrs = dict(data.get("response_attrs") or {})
        else:
            prompt, response = self.prompt, self.response
            texts = (prompt["text"], response["text"])
            metadata = prompt.get("metadata") or {}
            prompt_attrs = {k: v for k, v in prompt.items() if k not in PROMPT_FIELDS}
            response_attrs = {k: v for k, v in response.items() if k not in RESPONSE_FIELDS}
        return Interaction(
            prompt_id=self.prompt_id,
            prompt_text=texts[0],
            response_id=self.response_id,
            response_text=texts[1],
            agent_id=self.agent_id,
            session_id=self.session_id,
            timestamp=_time(self.stamp),
            agent_name=self.agent_name,
            metadata=dict(metadata),
            prompt_attrs=prompt_attrs,
            response_attrs=response_attrs,
            agent_attrs=dict(self.agent_attrs),
        )


class GraphState:
    """Every stored interaction, indexed by prompt, response, session and agent."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.links: dict[tuple[str, str, str], None] = {}
        self._links_of: dict[str, set[tuple[str, str, str]]] = {}
        self._seq = 0
        # response -> prompt, session -> prompts, agent -> prompts; built on first use
        self._indexes: tuple[dict[str, str], _Members, _Members] | None = (
            {},
            {},
            {},
        )

    def _index(self) -> tuple[dict[str, str], _Members, _Members]:
        if self._indexes is None:
            responses: dict[str, str] = {}
            by_session: _Members = {}
            by_agent: _Members = {}
            for pid, record in self.records.items():
                responses[record.response_id] = pid
                by_session.setdefault(record.session_id, {})[pid] = None
                by_agent.setdefault(record.agent_id, {})[pid] = None
            self._indexes = (responses, by_session, by_agent)
        return self._indexes

    @property
    def responses(self) -> dict[str, str]:
        """Response id -> prompt id."""
        return self._index()[0]

    @property
    def by_session(self) -> _Members:
        """Session id -> its prompt ids in insertion order."""
        return self._index()[1]

    @property
    def by_agent(self) -> _Members:
        """Agent id -> its prompt ids in insertion order."""
        return self._index()[2]

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self.records

    @property
    def last_seq(self) -> int:
        """The number given to the latest record added: it grows with every add, never shrinks."""
        return self._seq

    def add(self, record: Record) -> None:
        """Insert a record (replacing one with the same prompt id)."""
        pid = record.prompt_id
        if pid in self.records:
            self.remove(pid)
        self._seq += 1
        record.seq = self._seq
        self.records[pid] = record
        if self._indexes is not None:
            responses, by_session, by_agent = self._indexes
            responses[record.response_id] = pid
            by_session.setdefault(record.session_id, {})[pid] = None
            by_agent.setdefault(record.agent_id, {})[pid] = None

    def load(
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
            record = Record(seq, node, responses[node["response_id"]], name, agent_attrs)
            if not isinstance(record.stamp, str):
                raise TypeError(f"prompt {record.prompt_id!r} has no timestamp")
            records[record.prompt_id] = record
        self._seq = seq
        self._indexes = None
        if len(records) != len(prompts):
            raise ValueError("a prompt id appears twice")

    def load_index(self, index: Mapping[str, Any], source: NodeSource) -> None:
        """Fill an empty state from a snapshot's index; nodes are read when first needed."""
        agent_nodes: Mapping[str, list[Any]] = index["agent_nodes"]
        overrides: Mapping[str, list[Any]] = index["agent_names"]
        agents = {aid: (entry[0], entry[1] or {}) for aid, entry in agent_nodes.items()}
        spans = index["spans"]
        times = index.get("times") or [None] * (len(spans) // 2)
        records = self.records
        seq = self._seq
        names = ("prompts", "responses", "sessions", "agents", "stamps")
        columns = zip(*(index[name] for name in names), strict=True)
        for position, ids in enumerate(columns):
            override = overrides.get(ids[0]) if overrides else None
            agent = (override[0], override[1] or {}) if override else agents[ids[3]]
            span = (spans[2 * position], spans[2 * position + 1])
            record = Record.lazy(ids, agent, source, span, times[position])
            seq += 1
            record.seq = seq
            records[record.prompt_id] = record
        self._seq = seq
        self._indexes = None
        if len(records) != len(spans) // 2:
            raise ValueError("a prompt id appears twice")
        for source_id, target_id, relation in index["links"]:
            if source_id in records and target_id in records:
                self.add_link(Link(source_id, target_id, relation))

    def materialize(self, records: list[Record] | None = None) -> None:
        """Read the nodes of lazy records (all of them by default) in one pass over the file."""
        lazy = [r for r in (self.records.values() if records is None else records) if r.is_lazy]
        if len(lazy) < 64:
            for record in lazy:
                record.prompt  # noqa: B018 - reads the nodes
            return
        by_source: dict[int, list[Record]] = {}
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
                for first, second in zip(nodes[::2], nodes[1::2], strict=False):
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
        if self._indexes is not None:
            responses, by_session, by_agent = self._indexes
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

    def add_link(self, link: Link) -> bool:
        """Record a link between two stored prompts; False if it is there already."""
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

    def session(self, session_id: str) -> list[Record]:
        """A session's records by timestamp, then insertion."""
        members = [self.records[pid] for pid in self.by_session.get(session_id, {})]
        self.materialize(members)
        return sorted(members, key=lambda rec: rec.timestamp)

    def agents(self) -> list[Agent]:
        """Agents in order of first appearance, each as its latest interaction names it."""
        result = []
        for agent_id in sorted(self.by_agent, key=lambda a: self._first_seq(self.by_agent[a])):
            latest = self.records[next(reversed(self.by_agent[agent_id]))]
            result.append(Agent(agent_id, latest.agent_name, dict(latest.agent_attrs)))
        return result

    def link_list(self) -> list[Link]:
        """Every caller-made link."""
        return [Link(*key) for key in self.links]

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self.records.values()))

    def iter_full(self) -> list[Record]:
        """Every record, in order, with its nodes read."""
        self.materialize()
        return list(self.records.values())
