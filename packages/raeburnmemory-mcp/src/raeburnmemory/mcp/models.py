"""What the tools return: pydantic models, published as each tool's output schema.

Every tool answers with structured content that validates against its model, and the same data
as JSON text for clients that read only text.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from raeburnmemory.core.model import Interaction, SearchHit

__all__ = [
    "ForgetCount",
    "ForgetResult",
    "Memory",
    "MemoryCount",
    "MemoryPage",
    "MemoryStats",
    "RecordResult",
    "SearchMatch",
    "SearchResult",
    "SessionHistory",
    "SessionList",
]

#: ``search_memory``'s ``mode`` values.
SearchMode = Literal["vector", "keyword", "hybrid"]

#: The fields a memory and a search match both copy as they are.
_PLAIN_FIELDS = ("prompt_text", "response_id", "response_text", "agent_id", "session_id")


def _shared_fields(source: Interaction | SearchHit) -> dict[str, Any]:
    """The fields of :class:`Memory` and :class:`SearchMatch` that both take from ``source``
    (an interaction or a search hit): the plain ones, the time in ISO 8601, the metadata."""
    fields = {name: getattr(source, name) for name in _PLAIN_FIELDS}
    fields["timestamp"] = source.timestamp.isoformat()
    fields["metadata"] = dict(source.metadata)
    return fields


class Memory(BaseModel):
    """One recorded interaction: the prompt, the response, who answered and in which session."""

    prompt_id: str
    prompt_text: str
    response_id: str | None
    response_text: str | None
    agent_id: str
    agent_name: str | None = None
    session_id: str
    timestamp: str = Field(description="When it was recorded, ISO 8601 in UTC.")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, item: Interaction) -> Memory:
        """The model of a stored interaction."""
        return cls(prompt_id=item.prompt_id, agent_name=item.agent_name, **_shared_fields(item))


class RecordResult(BaseModel):
    """The ids under which an interaction was recorded (given by the caller or generated)."""

    prompt_id: str
    response_id: str | None
    agent_id: str
    session_id: str


class SearchMatch(BaseModel):
    """One search hit: the stored prompt, how well it matched, and its interaction."""

    prompt_id: str
    score: float = Field(
        description="Cosine similarity (vector), the full-text rank (keyword) or the fused rank "
        "(hybrid); higher is better."
    )
    prompt_text: str
    response_id: str | None
    response_text: str | None
    agent_id: str
    session_id: str
    timestamp: str = Field(description="When it was recorded, ISO 8601 in UTC.")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, hit: SearchHit) -> SearchMatch:
        """The model of a search hit."""
        return cls(prompt_id=hit.id, score=hit.score, **_shared_fields(hit))


class SearchResult(BaseModel):
    """The hits of a search, best first."""

    mode: SearchMode
    matches: list[SearchMatch]


class SessionHistory(BaseModel):
    """A session's interactions, oldest first."""

    session_id: str
    total: int = Field(description="How many interactions the session holds.")
    interactions: list[Memory]


class SessionList(BaseModel):
    """Every session id, in order of first appearance."""

    sessions: list[str]


class MemoryStats(BaseModel):
    """What the memory holds and how it is configured."""

    interactions: int
    sessions: int
    agents: int
    links: int
    vectors: int
    encoder: str | None = Field(description="The encoder the stored vectors were made with.")
    dim: int | None = Field(description="The dimension of the stored vectors.")
    storage_backend: str
    vector_backend: str
    read_only: bool = Field(description="Whether this server offers only the tools that read.")


class ForgetResult(BaseModel):
    """The prompt ids forgotten, with their responses, vectors and links."""

    forgotten: list[str]
    count: int


class MemoryPage(BaseModel):
    """One page of memories in time order, and the cursor of the next page."""

    memories: list[Memory]
    next_cursor: str | None = Field(
        description="Pass it as cursor, with the same filters, for the next page; null after "
        "the last page."
    )


class MemoryCount(BaseModel):
    """How many memories pass the filters."""

    count: int


class ForgetCount(BaseModel):
    """How many memories were forgotten, with their responses, vectors and links."""

    count: int
