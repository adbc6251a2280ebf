"""One interaction as the JSON store keeps it in memory, with its nodes or the way to read them.

Each interaction read from the snapshot is kept as its prompt and response nodes, read from the
file when first needed (so a snapshot loads without converting anything); each one added since
is kept as the dict its journal line holds, with the agent name and attributes the interaction
was recorded with. :class:`~raeburnmemory.core.model.Interaction` objects are built on demand.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from raeburnmemory.core.model import Interaction, VectorPayload

__all__ = ["NodeSource", "StoredInteraction"]


class NodeSource(Protocol):
    """Where lazy records read their nodes: an open snapshot file."""

    path: Path

    def nodes(self, offset: int, length: int) -> list[dict[str, Any]]:
        """The nodes written at ``offset``."""

    def node_range(self, start: int, end: int) -> list[dict[str, Any]]:
        """Every node between two byte offsets."""

    def raw(self, start: int, end: int) -> bytes:
        """The file's bytes between two offsets, as they are."""


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class StoredInteraction:
    """One stored interaction, with its insertion number.

    A record read from a snapshot keeps the snapshot's prompt and response nodes; one added
    since keeps the interaction's dict (:meth:`Interaction.to_dict`) and builds its nodes only
    when a snapshot is written, so an add does little besides writing its journal line.
    """

    __slots__ = (
        "_data",
        "_prompt",
        "_response",
        "_seconds",
        "_source",
        "_span",
        "agent_attrs",
        "agent_id",
        "agent_name",
        "expires",
        "prompt_id",
        "response_id",
        "seq",
        "session_id",
        "timestamp_text",
    )

    def __init__(
        self,
        seq: int,
        prompt: dict[str, Any],
        response: dict[str, Any] | None,
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
        self.response_id: str | None = None if response is None else response["key"]
        self.session_id: str = prompt["session_id"]
        self.agent_id: str = prompt["agent_id"]
        self.timestamp_text: str = prompt["timestamp"]
        self._seconds: float | None = None
        self.agent_name = agent_name
        self.agent_attrs = agent_attrs
        self.expires: str | None = prompt.get("expires_at")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], seconds: float | None = None) -> StoredInteraction:
        """The record of an interaction given as :meth:`Interaction.to_dict` gives it
        (``seconds``: its timestamp in POSIX seconds, when known, so it is not parsed again)."""
        record = cls.__new__(cls)
        record.seq = 0
        record._prompt = record._response = None
        record._data = data
        record._source = None
        record._span = (0, 0)
        record.prompt_id = data["prompt_id"]
        record.response_id = data.get("response_id")
        record.session_id = data["session_id"]
        record.agent_id = data["agent_id"]
        record.timestamp_text = data["timestamp"]
        record._seconds = seconds
        record.agent_name = data.get("agent_name")
        record.agent_attrs = data.get("agent_attrs") or {}
        record.expires = data.get("expires_at")
        return record

    @classmethod
    def lazy(
        cls,
        ids: tuple[str, str | None, str, str, str],
        agent: tuple[str | None, Mapping[str, Any]],
        source: NodeSource,
        span: tuple[int, int],
        seconds: float | None = None,
    ) -> StoredInteraction:
        """A record whose nodes stay in the snapshot file until they are needed.

        ``ids`` are the prompt, response, session and agent ids and the timestamp; ``seconds``
        is the timestamp in POSIX seconds when known.
        """
        record = cls.__new__(cls)
        record.seq = 0
        record._prompt = record._response = None
        record._data = None
        record._source = source
        record._span = span
        record.prompt_id, record.response_id, record.session_id, record.agent_id = ids[:4]
        record.timestamp_text = ids[4]
        record._seconds = seconds
        record.agent_name, record.agent_attrs = agent
        record.expires = None  # the snapshot index's expiry column sets it
        return record

    @property
    def snapshot_place(self) -> tuple[NodeSource, int, int] | None:
        """The snapshot file and the offset and length of this record's nodes in it, when the
        record was read from one (its nodes are then those bytes, unchanged)."""
        if self._source is None:
            return None
        return self._source, self._span[0], self._span[1]

    @property
    def added(self) -> Mapping[str, Any] | None:
        """The interaction's dict (:meth:`Interaction.to_dict`) when it was added since the
        snapshot was read, ``None`` for a record read from a snapshot."""
        return self._data

    @property
    def is_lazy(self) -> bool:
        """Whether the nodes are still in the snapshot file."""
        return self._prompt is None and self._data is None

    def fill(self, prompt: dict[str, Any], response: dict[str, Any] | None) -> None:
        """Take the nodes of a lazy record (``ValueError`` if they are not its own)."""
        if (
            prompt.get("kind") != "prompt"
            or prompt.get("key") != self.prompt_id
            or not isinstance(prompt.get("text"), str)
            or not _is_response_of(response, self.response_id)
        ):
            raise ValueError(f"the nodes of prompt {self.prompt_id!r} do not match the index")
        self._prompt, self._response = prompt, response

    def _materialize(self) -> None:
        source = self._source
        assert source is not None
        nodes = source.nodes(*self._span)
        try:
            expected = 1 if self.response_id is None else 2
            if len(nodes) != expected:
                raise ValueError(f"expected {expected} nodes for prompt {self.prompt_id!r}")
            self.fill(nodes[0], nodes[1] if expected == 2 else None)
        except ValueError as exc:
            raise CorruptStoreError(source.path, str(exc)) from None

    @classmethod
    def checked(cls, data: Mapping[str, Any]) -> StoredInteraction:
        """:meth:`from_dict` for data read from a file: ``TypeError``/``ValueError`` if wrong."""
        record = cls.from_dict(data)
        texts = (
            record.prompt_id,
            record.session_id,
            record.agent_id,
            record.timestamp_text,
            data["prompt_text"],
        )
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("texts and ids must be strings")
        answer = (record.response_id, data.get("response_text"))
        if not (answer == (None, None) or all(isinstance(text, str) for text in answer)):
            raise TypeError("the response id and text must be strings, or both null")
        for key in ("metadata", "prompt_attrs", "response_attrs", "agent_attrs"):
            if not isinstance(data.get(key) or {}, dict):
                raise TypeError(f"{key} must be an object")
        record.timestamp  # noqa: B018 - parses, or raises ValueError
        if record.expires is not None:
            _time(record.expires)  # parses, or raises ValueError (TypeError if not text)
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
            self.timestamp_text,
            data.get("metadata") or {},
            self.session_id,
            self.response_id,
            self.agent_id,
            data.get("prompt_attrs") or {},
            self.expires,
        )

    @property
    def response(self) -> dict[str, Any] | None:
        """The response node (``None`` for a prompt without a response)."""
        if self.response_id is None or self._response is not None:
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
    def response_text(self) -> str | None:
        """The response's text (``None`` for a prompt without a response)."""
        if self._data is not None:
            text: str | None = self._data.get("response_text")
            return text
        answer = self.response
        return None if answer is None else answer["text"]

    @property
    def timestamp(self) -> datetime:
        """When the interaction happened (aware, UTC)."""
        return _time(self.timestamp_text)

    @property
    def timestamp_seconds(self) -> float:
        """When the interaction happened, in POSIX seconds (from the map, or parsed once)."""
        seconds = self._seconds
        if seconds is None:
            seconds = self._seconds = _time(self.timestamp_text).timestamp()
        return seconds

    def is_expired(self, now: datetime) -> bool:
        """Whether the interaction has expired at ``now``."""
        return self.expires is not None and _time(self.expires) <= now

    def payload(self) -> VectorPayload:
        """The filter fields kept beside the prompt's vector."""
        return VectorPayload(self.session_id, self.agent_id, self.timestamp_seconds)

    def interaction(self) -> Interaction:
        """The interaction, as it was added."""
        data = self._data
        if data is not None:
            texts = (data["prompt_text"], data.get("response_text"))
            metadata = data.get("metadata") or {}
            prompt_attrs = dict(data.get("prompt_attrs") or {})
            response_attrs = dict(data.get("response_attrs") or {})
        else:
            prompt, response = self.prompt, self.response or {}
            texts = (prompt["text"], response.get("text"))
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
            timestamp=_time(self.timestamp_text),
            agent_name=self.agent_name,
            metadata=dict(metadata),
            prompt_attrs=prompt_attrs,
            response_attrs=response_attrs,
            agent_attrs=dict(self.agent_attrs),
            expires_at=None if self.expires is None else _time(self.expires),
        )


def _is_response_of(node: Mapping[str, Any] | None, response_id: str | None) -> bool:
    """Whether ``node`` is the response node with ``response_id`` (or both are missing)."""
    if response_id is None:
        return node is None
    return (
        node is not None
        and node.get("kind") == "response"
        and node.get("key") == response_id
        and isinstance(node.get("text"), str)
    )
