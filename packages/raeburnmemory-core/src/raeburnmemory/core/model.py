"""The records a memory graph is made of, and the shapes of search requests and results.

An *interaction* is one prompt, the response to it (optional: a prompt may be recorded on its
own), the agent that produced the response and the session the prompt belongs to. In the graph
it becomes up to four nodes and their edges (no response node when there is no response)::

    prompt --responded_with--> response --generated_by--> agent
    prompt --belongs_to--> session
    prompt --followed_by--> next prompt of the same session
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from raeburnmemory.core.errors import ConfigurationError

if TYPE_CHECKING:  # where.py imports limits.py, which imports this module
    from raeburnmemory.core.where import Where

__all__ = [
    "MAX_TOP_K",
    "RELATIONS",
    "Agent",
    "ContentKey",
    "EncoderInfo",
    "Interaction",
    "Link",
    "SearchFilter",
    "SearchHit",
    "VectorPayload",
    "parse_timestamp",
    "utc_now",
]

#: The most hits one search returns: ``top_k`` is from 1 to this in the library, the command
#: line and the HTTP API alike.
MAX_TOP_K = 1000

#: Edge relations the graph uses; callers may add their own with ``link_prompts``.
RELATIONS = ("responded_with", "generated_by", "belongs_to", "followed_by")

#: :meth:`Interaction.content_key`: prompt id and text, response id and text, agent id and
#: session id.
ContentKey = tuple[str, str, str | None, str | None, str, str]


def utc_now() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


def parse_timestamp(
    value: datetime | str | float | int | None, *, name: str = "timestamp"
) -> datetime:
    """Turn a datetime, ISO 8601 string or POSIX seconds into an aware UTC datetime.

    ``None`` means now. A naive datetime is taken to be UTC.
    """
    if value is None:
        return utc_now()
    try:
        moment = _moment(value, name)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(
            f"{name} {value!r} is outside the years 1 to 9999 in UTC ({exc})"
        ) from None


def _moment(value: datetime | str | float | int, name: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a datetime, an ISO 8601 string or seconds")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ConfigurationError(f"{name} must be a finite number of seconds")
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ConfigurationError(f"{name} {value!r} is not an ISO 8601 date and time") from None
    raise ConfigurationError(f"{name} must be a datetime, an ISO 8601 string or seconds")


@dataclass(frozen=True)
class Interaction:
    """One recorded exchange: a prompt, its response, the agent and the session.

    ``response_id`` and ``response_text`` are both ``None`` for a prompt recorded without a
    response (a note, a fact, a question not answered yet). ``expires_at`` (aware, UTC), when
    set, is the moment from which no read returns the interaction any more.

    ``prompt_attrs``, ``response_attrs`` and ``agent_attrs`` keep any extra keys the caller
    gave in the prompt, response and agent dicts; ``metadata`` is the caller's JSON-serializable
    dict for the interaction.
    """

    prompt_id: str
    prompt_text: str
    response_id: str | None
    response_text: str | None
    agent_id: str
    session_id: str
    timestamp: datetime
    agent_name: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    prompt_attrs: Mapping[str, Any] = field(default_factory=dict)
    response_attrs: Mapping[str, Any] = field(default_factory=dict)
    agent_attrs: Mapping[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        """Whether the interaction has expired at ``now``."""
        return self.expires_at is not None and self.expires_at <= now

    def content_key(self) -> ContentKey:
        """What "the same content" compares: the ids and texts of the exchange, not its time.

        In order: prompt id, prompt text, response id, response text, agent id, session id.
        """
        return (
            self.prompt_id,
            self.prompt_text,
            self.response_id,
            self.response_text,
            self.agent_id,
            self.session_id,
        )

    @property
    def has_response(self) -> bool:
        """Whether the prompt has a response (``False`` for a prompt recorded on its own)."""
        return self.response_id is not None

    def same_content(self, other: Interaction) -> bool:
        """Whether ``other`` records the same exchange (ids and texts), whatever its time."""
        return self.content_key() == other.content_key()

    @property
    def payload(self) -> VectorPayload:
        """What a vector index keeps beside the prompt's vector, for filtering."""
        return VectorPayload(self.session_id, self.agent_id, self.timestamp.timestamp())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict of every field (the timestamp in ISO 8601)."""
        return {
            "prompt_id": self.prompt_id,
            "prompt_text": self.prompt_text,
            "response_id": self.response_id,
            "response_text": self.response_text,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "session_id": self.session_id,
            "timestamp": self.timestamp.isoformat(),
            "metadata": dict(self.metadata),
            "prompt_attrs": dict(self.prompt_attrs),
            "response_attrs": dict(self.response_attrs),
            "agent_attrs": dict(self.agent_attrs),
            **({} if self.expires_at is None else {"expires_at": self.expires_at.isoformat()}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interaction:
        """Build an interaction from :meth:`to_dict`'s output."""
        return cls(
            prompt_id=data["prompt_id"],
            prompt_text=data["prompt_text"],
            response_id=data.get("response_id"),
            response_text=data.get("response_text"),
            agent_id=data["agent_id"],
            agent_name=data.get("agent_name"),
            session_id=data["session_id"],
            timestamp=parse_timestamp(data["timestamp"]),
            metadata=data.get("metadata") or {},
            prompt_attrs=data.get("prompt_attrs") or {},
            response_attrs=data.get("response_attrs") or {},
            agent_attrs=data.get("agent_attrs") or {},
            expires_at=(
                None if data.get("expires_at") is None else parse_timestamp(data["expires_at"])
            ),
        )


@dataclass(frozen=True)
class Agent:
    """An agent that produced responses, with its latest known name and attributes."""

    id: str
    name: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """A caller-made edge between two prompts (``link_prompts``)."""

    source: str
    target: str
    relation: str = "related_to"


@dataclass(frozen=True)
class VectorPayload:
    """The fields a vector index keeps beside each prompt vector so it can filter by itself."""

    session_id: str
    agent_id: str
    timestamp: float


@dataclass(frozen=True)
class SearchFilter:
    """Restricts a search to one session, one agent, a time window (inclusive) and/or the
    prompts whose metadata passes a filter (``where``).

    An engine that cannot evaluate ``where`` itself (an in-memory vector index) is handed the
    ids of the prompts that pass it, ``prompt_ids``, found by the store beforehand: only those
    may be returned (``None``: no such restriction).
    """

    session_id: str | None = None
    agent_id: str | None = None
    since: float | None = None
    until: float | None = None
    where: Where | None = None
    prompt_ids: frozenset[str] | None = None

    @property
    def is_empty(self) -> bool:
        """True when the filter lets every prompt through."""
        return (
            self.session_id is None
            and self.agent_id is None
            and self.since is None
            and self.until is None
            and self.where is None
            and self.prompt_ids is None
        )

    def matches(self, payload: VectorPayload) -> bool:
        """Whether a prompt with this payload passes the session, agent and time parts (the
        payload holds no metadata: ``where`` and ``prompt_ids`` are checked by the caller)."""
        if self.session_id is not None and payload.session_id != self.session_id:
            return False
        if self.agent_id is not None and payload.agent_id != self.agent_id:
            return False
        if self.since is not None and payload.timestamp < self.since:
            return False
        return self.until is None or payload.timestamp <= self.until


@dataclass(frozen=True)
class SearchHit:
    """One search result: the prompt, how well it matched, and its interaction."""

    id: str
    score: float
    prompt_text: str
    response_text: str | None
    response_id: str | None
    agent_id: str
    session_id: str
    timestamp: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict of the hit (the timestamp in ISO 8601)."""
        return {
            "id": self.id,
            "score": self.score,
            "prompt_text": self.prompt_text,
            "response_text": self.response_text,
            "response_id": self.response_id,
            "agent_id": self.agent_id,
            "session_id": self.session_id,
            "timestamp": self.timestamp.isoformat(),
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class EncoderInfo:
    """The encoder a store's vectors were made with."""

    name: str
    dim: int
