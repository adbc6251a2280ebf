"""The JSON bodies of the HTTP API, as Pydantic models (they make the OpenAPI schema)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.limits import MAX_ID_LENGTH
from raeburnmemory.core.model import MAX_TOP_K, Interaction, SearchHit, parse_timestamp

__all__ = [
    "AddResponse",
    "AgentIn",
    "BatchRequest",
    "BatchResponse",
    "CountOut",
    "DeleteSessionResponse",
    "ErrorDetail",
    "ErrorResponse",
    "ForgetRequest",
    "ForgetResponse",
    "GraphOut",
    "HealthResponse",
    "HitOut",
    "InteractionIn",
    "InteractionOut",
    "InteractionsPage",
    "MessageIn",
    "SessionOut",
    "SessionOverviewPage",
    "SessionSummaryOut",
    "SessionsOut",
    "SimilarRequest",
    "SimilarResponse",
    "UpdateRequest",
]

# The library checks every field against its own rules (raeburnmemory.core.limits) and
# answers InvalidInteractionError, a 422 naming the field; the schema only shows the bounds.
_ID = Field(
    min_length=1,
    max_length=MAX_ID_LENGTH,
    description="the caller's id: no control characters, not only whitespace",
)


def _moment(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value, name=name)
    except (ConfigurationError, OverflowError, OSError) as exc:
        raise ValueError(str(exc)) from None


_GENERATED_ID = Field(
    default=None,
    min_length=1,
    max_length=MAX_ID_LENGTH,
    description="the caller's id (no control characters, not only whitespace); "
    "generated, in time order, when left out",
)


class MessageIn(BaseModel):
    """A prompt or a response: its text, its id (generated when left out) and any extra
    attributes to keep."""

    model_config = ConfigDict(extra="allow")

    id: str | None = _GENERATED_ID
    text: str = Field(max_length=1_000_000)

    def as_mapping(self) -> dict[str, Any]:
        """The message as the library takes it: no ``id`` when none was given."""
        fields = self.model_dump()
        if fields["id"] is None:
            del fields["id"]
        return fields


class AgentIn(BaseModel):
    """The agent that produced the response; extra keys are kept as attributes."""

    model_config = ConfigDict(extra="allow")

    id: str = _ID
    name: str | None = None

    def as_mapping(self) -> dict[str, Any]:
        """The agent as the library takes it: no ``name`` when none was given, and every
        attribute, ``null`` ones included."""
        fields = self.model_dump()
        if fields["name"] is None:
            del fields["name"]
        return fields


class InteractionIn(BaseModel):
    """One interaction to record: the body of ``POST /memory/interactions``.

    The prompt and response are text or objects; a prompt without a response is a memory of
    its own. The agent and session default to ``"default"``.
    """

    prompt: MessageIn = Field(description="the prompt; plain text is taken as its text")
    response: MessageIn | None = Field(
        default=None, description="the response, if any; plain text is taken as its text"
    )
    agent: AgentIn | None = Field(
        default=None, description='the agent; plain text is taken as its id; default "default"'
    )
    session_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID_LENGTH,
        description='the session\'s id; default "default"',
    )
    metadata: dict[str, Any] | None = None
    timestamp: datetime | float | None = Field(
        default=None, description="ISO 8601 date and time, or POSIX seconds; default now"
    )
    expires_at: datetime | float | None = Field(
        default=None,
        description="when the memory expires (ISO 8601 or POSIX seconds); default never",
    )

    @field_validator("prompt", "response", mode="before")
    @classmethod
    def _text_alone(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("agent", mode="before")
    @classmethod
    def _id_alone(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("timestamp", "expires_at", mode="before")
    @classmethod
    def _check_moment(cls, value: Any, info: ValidationInfo) -> datetime | None:
        return _moment(value, str(info.field_name))

    def as_mapping(self) -> dict[str, Any]:
        """The interaction as ``MemoryGraph.batch_add`` takes it."""
        return {
            "prompt": self.prompt.as_mapping(),
            "response": None if self.response is None else self.response.as_mapping(),
            "agent": None if self.agent is None else self.agent.as_mapping(),
            "session_id": self.session_id,
            "metadata": self.metadata,
            "timestamp": self.timestamp,
            "expires_at": self.expires_at,
        }


class BatchRequest(BaseModel):
    """Several interactions to record at once."""

    interactions: list[InteractionIn] = Field(max_length=100_000)


class AddResponse(BaseModel):
    """The id of the recorded prompt."""

    prompt_id: str


class BatchResponse(BaseModel):
    """The prompt ids newly recorded (ids already there with the same content are skipped)."""

    added: list[str]


class SimilarRequest(BaseModel):
    """A similarity search: the body of ``POST /memory/similar``."""

    text: str = Field(max_length=100_000, description="the text to search for (not blank)")
    top_k: int = Field(
        default=5, ge=1, le=MAX_TOP_K, description=f"how many hits at most, 1 to {MAX_TOP_K}"
    )
    session_id: str | None = None
    agent_id: str | None = None
    since: datetime | float | None = Field(default=None, description="earliest timestamp")
    until: datetime | float | None = Field(default=None, description="latest timestamp")
    min_score: float | None = Field(default=None, ge=-1.0, le=1.0)
    mode: Literal["vector", "keyword", "hybrid"] = "vector"
    where: dict[str, Any] | None = Field(
        default=None,
        description='a metadata filter: {"user": "ana"}, {"n": {"$gte": 2}}, $and, $or, ...',
    )

    @field_validator("since", "until", mode="before")
    @classmethod
    def _check_moment(cls, value: Any) -> datetime | None:
        return _moment(value, "since/until")

    @field_validator("min_score")
    @classmethod
    def _check_score(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("min_score must be a finite number")
        return value


class HitOut(BaseModel):
    """One search result."""

    id: str
    score: float
    prompt_text: str
    response_text: str | None
    response_id: str | None
    agent_id: str
    session_id: str
    timestamp: str
    metadata: dict[str, Any]

    @classmethod
    def of(cls, hit: SearchHit) -> HitOut:
        """The model of a library search hit."""
        return cls.model_validate(hit.to_dict())


class SimilarResponse(BaseModel):
    """The prompt ids best first, and the hits with their scores and texts."""

    ids: list[str]
    hits: list[HitOut]


class InteractionOut(BaseModel):
    """One recorded interaction."""

    prompt_id: str
    prompt_text: str
    response_id: str | None
    response_text: str | None
    agent_id: str
    agent_name: str | None
    session_id: str
    timestamp: str
    metadata: dict[str, Any]
    prompt_attrs: dict[str, Any]
    response_attrs: dict[str, Any]
    agent_attrs: dict[str, Any]
    expires_at: str | None = None

    @classmethod
    def of(cls, interaction: Interaction) -> InteractionOut:
        """The model of a library interaction."""
        return cls.model_validate(interaction.to_dict())


class SessionOut(BaseModel):
    """A session's interactions, in order."""

    session_id: str
    interactions: list[InteractionOut]


class SessionsOut(BaseModel):
    """The ids of every session."""

    sessions: list[str]


class DeleteSessionResponse(BaseModel):
    """The prompt ids removed with the session."""

    session_id: str
    deleted: list[str]


class GraphOut(BaseModel):
    """Node-link JSON of the graph (the shape ``networkx.node_link_data`` gives)."""

    directed: bool
    multigraph: bool
    graph: dict[str, Any]
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


class HealthResponse(BaseModel):
    """The server is up."""

    status: Literal["ok"] = "ok"


class ErrorDetail(BaseModel):
    """What went wrong: the exception type and a message for people."""

    type: str
    message: str
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="for invalid requests: each field that is wrong"
    )


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class InteractionsPage(BaseModel):
    """One page of a listing: the interactions and the cursor of the next page (``null``
    after the last one)."""

    items: list[InteractionOut]
    next_cursor: str | None


class CountOut(BaseModel):
    """How many interactions pass the filters."""

    count: int


class UpdateRequest(BaseModel):
    """The parts of an interaction to change: the body of ``PATCH /memory/interactions/{id}``.

    Parts left out keep their stored value.
    """

    model_config = ConfigDict(extra="forbid")

    response: str | dict[str, Any] | None = Field(
        default=None, description='the new response: its text, or {"text": ..., "id"?: ...}'
    )
    metadata: dict[str, Any] | None = Field(default=None, description="replaces the metadata")
    prompt_text: str | None = Field(
        default=None, max_length=1_000_000, description="the new prompt text (re-embedded)"
    )

    def changes(self) -> dict[str, Any]:
        """The parts the request gives, as ``MemoryGraph.update_interaction`` takes them."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class ForgetRequest(BaseModel):
    """Which interactions to delete: the body of ``POST /memory/forget``.

    At least one filter must be given, or ``everything`` set to ``true``.
    """

    model_config = ConfigDict(extra="forbid")

    where: dict[str, Any] | None = Field(default=None, description="a metadata filter")
    session_id: str | None = None
    agent_id: str | None = None
    before: datetime | float | None = Field(
        default=None, description="delete what happened strictly before this moment"
    )
    everything: bool = Field(default=False, description="with no filter, delete everything")

    @field_validator("before", mode="before")
    @classmethod
    def _check_before(cls, value: Any) -> datetime | None:
        return _moment(value, "before")


class ForgetResponse(BaseModel):
    """How many interactions were deleted."""

    deleted: int


class SessionSummaryOut(BaseModel):
    """One session at a glance: how many interactions, the first and last times, the agents."""

    session_id: str
    interactions: int
    first: str
    last: str
    agents: list[str]


class SessionOverviewPage(BaseModel):
    """One page of the session overview, newest last activity first."""

    items: list[SessionSummaryOut]
    next_cursor: str | None
