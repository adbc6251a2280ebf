"""The tools the MCP server offers, each a method of :class:`MemoryTools` over one memory graph.

Each tool's arguments are its typed parameters (the input schema) and it returns a pydantic
model (the output schema). A failure the library reports comes back as a tool error carrying the
library's message; the server keeps running. :data:`TOOLS` lists every tool with whether it
writes, so a read-only server leaves the writing ones out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from raeburnmemory.core.records import DEFAULT_AGENT_ID, DEFAULT_SESSION_ID
from raeburnmemory.mcp._errors import tool_errors
from raeburnmemory.mcp._ids import new_id
from raeburnmemory.mcp._listing_tools import ListingTools, Time, Where
from raeburnmemory.mcp.models import (
    ForgetResult,
    Memory,
    MemoryStats,
    RecordResult,
    SearchMatch,
    SearchMode,
    SearchResult,
    SessionHistory,
    SessionList,
)

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph

__all__ = ["MAX_TOP_K", "TOOLS", "MemoryTools", "ToolSpec", "tool_errors"]

#: The most hits one ``search_memory`` call may ask for.
MAX_TOP_K = 100


class MemoryTools(ListingTools):
    """The tools, bound to one open :class:`~raeburnmemory.memory_graph.MemoryGraph`."""

    def __init__(self, memory: MemoryGraph, *, read_only: bool = False) -> None:
        self.memory = memory
        self.read_only = read_only

    def record_memory(
        self,
        prompt: Annotated[
            str, Field(description="What was asked or said, or a fact or note to remember.")
        ],
        response: Annotated[
            str | None,
            Field(description="What the agent answered; leave out for a fact or a note."),
        ] = None,
        session_id: Annotated[
            str | None, Field(description='The conversation this belongs to (default "default").')
        ] = None,
        agent_id: Annotated[
            str | None, Field(description='The agent that answered (default "default").')
        ] = None,
        agent_name: Annotated[str | None, Field(description="The agent's display name.")] = None,
        metadata: Annotated[
            dict[str, Any] | None,
            Field(description="Any JSON object kept with the memory (tags, user, source)."),
        ] = None,
        prompt_id: Annotated[
            str | None,
            Field(description="Id of the prompt; a time-ordered one is made if omitted."),
        ] = None,
        response_id: Annotated[
            str | None,
            Field(description="Id of the response; a time-ordered one is made if omitted."),
        ] = None,
        timestamp: Time = None,
        expires_at: Annotated[
            str | float | None,
            Field(
                description="When the memory expires (ISO 8601 or POSIX seconds); never if omitted."
            ),
        ] = None,
    ) -> RecordResult:
        """Record one interaction (or a fact alone) durably; the ids it was stored under."""
        prompt_id = new_id() if prompt_id is None else prompt_id
        answer: dict[str, Any] | None = None
        if response is not None:
            response_id = new_id() if response_id is None else response_id
            answer = {"id": response_id, "text": response}
        agent_id = DEFAULT_AGENT_ID if agent_id is None else agent_id
        session_id = DEFAULT_SESSION_ID if session_id is None else session_id
        agent: dict[str, Any] = {"id": agent_id}
        if agent_name is not None:
            agent["name"] = agent_name
        with tool_errors():
            stored = self.memory.add_interaction(
                {"id": prompt_id, "text": prompt},
                answer,
                agent,
                session_id,
                metadata=metadata,
                timestamp=timestamp,
                expires_at=expires_at,
            )
        return RecordResult(
            prompt_id=stored,
            response_id=None if answer is None else response_id,
            agent_id=agent_id,
            session_id=session_id,
        )

    def search_memory(
        self,
        query: Annotated[str, Field(description="Text to look for among the stored prompts.")],
        top_k: Annotated[int, Field(ge=1, le=MAX_TOP_K, description="How many hits at most.")] = 5,
        mode: Annotated[
            SearchMode,
            Field(
                description="vector: by meaning; keyword: by words (full text); hybrid: both "
                "rankings fused."
            ),
        ] = "vector",
        session_id: Annotated[str | None, Field(description="Only this session.")] = None,
        agent_id: Annotated[str | None, Field(description="Only this agent's answers.")] = None,
        since: Time = None,
        until: Time = None,
        min_score: Annotated[
            float | None, Field(description="Drop hits scoring below this.")
        ] = None,
        where: Where = None,
    ) -> SearchResult:
        """The stored prompts most like the query, best first, with their responses."""
        options: dict[str, Any] = {
            "session_id": session_id,
            "agent_id": agent_id,
            "since": since,
            "until": until,
            "min_score": min_score,
            "where": where,
        }
        given = {name: value for name, value in options.items() if value is not None}
        with tool_errors():
            hits = self.memory.search(query, top_k, mode=mode, **given)
        return SearchResult(mode=mode, matches=[SearchMatch.of(hit) for hit in hits])

    def session_history(
        self,
        session_id: Annotated[str, Field(description="The session to read.")],
        last: Annotated[
            int | None,
            Field(ge=1, description="Only the most recent interactions, this many at most."),
        ] = None,
    ) -> SessionHistory:
        """A session's interactions in the order they were recorded."""
        with tool_errors():
            items = self.memory.get_session(session_id)
        shown = items if last is None else items[-last:]
        return SessionHistory(
            session_id=session_id, total=len(items), interactions=[Memory.of(i) for i in shown]
        )

    def get_memory(
        self, prompt_id: Annotated[str, Field(description="The id of a recorded prompt.")]
    ) -> Memory:
        """One recorded interaction, by its prompt id."""
        with tool_errors():
            return Memory.of(self.memory.get_interaction(prompt_id))

    def list_sessions(self) -> SessionList:
        """Every session id, in order of first appearance."""
        with tool_errors():
            return SessionList(sessions=self.memory.sessions())

    def memory_stats(self) -> MemoryStats:
        """How many interactions, sessions, agents and vectors the memory holds, and its setup."""
        with tool_errors():
            stats = self.memory.stats()
        return MemoryStats(
            interactions=stats["interactions"],
            sessions=stats["sessions"],
            agents=stats["agents"],
            links=stats.get("links", 0),
            vectors=stats["vectors"],
            encoder=stats["encoder"],
            dim=stats["dim"],
            storage_backend=stats["storage_backend"],
            vector_backend=stats["vector_backend"],
            read_only=self.read_only,
        )

    def forget_memory(
        self,
        prompt_id: Annotated[str | None, Field(description="Forget this one interaction.")] = None,
        session_id: Annotated[
            str | None, Field(description="Forget every interaction of this session.")
        ] = None,
    ) -> ForgetResult:
        """Delete one interaction or one whole session, with responses, vectors and links.

        Exactly one of the two must be given; nothing else is ever deleted.
        """
        if (prompt_id is None) == (session_id is None):
            raise ToolError("give exactly one of prompt_id or session_id; nothing was forgotten")
        with tool_errors():
            if prompt_id is not None:
                self.memory.delete_interaction(prompt_id)
                forgotten = [prompt_id]
            else:
                assert session_id is not None
                forgotten = self.memory.delete_session(session_id)
        return ForgetResult(forgotten=forgotten, count=len(forgotten))


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name (also the :class:`MemoryTools` method), what it does, how it behaves."""

    name: str
    title: str
    #: Whether it changes the memory (left out of a read-only server).
    writes: bool
    annotations: ToolAnnotations

    @property
    def scope(self) -> str:
        """The key scope allowing it: ``admin`` to remove, ``write`` to record, else ``read``."""
        if self.annotations.destructive_hint:
            return "admin"
        return "write" if self.writes else "read"

    def description(self) -> str:
        """The built-in description: the method's docstring."""
        doc = getattr(MemoryTools, self.name).__doc__ or ""
        return " ".join(doc.split())


def _reads() -> ToolAnnotations:
    return ToolAnnotations(read_only_hint=True, open_world_hint=False)


def _writes(*, destructive: bool = False, idempotent: bool = True) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


#: Every tool, in the order they are listed.
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "record_memory", "Record a memory", writes=True, annotations=_writes(idempotent=False)
    ),
    ToolSpec("search_memory", "Search memory", writes=False, annotations=_reads()),
    ToolSpec("session_history", "Session history", writes=False, annotations=_reads()),
    ToolSpec("get_memory", "Get a memory", writes=False, annotations=_reads()),
    ToolSpec("list_sessions", "List sessions", writes=False, annotations=_reads()),
    ToolSpec("memory_stats", "Memory statistics", writes=False, annotations=_reads()),
    ToolSpec("list_memories", "List memories", writes=False, annotations=_reads()),
    ToolSpec("count_memories", "Count memories", writes=False, annotations=_reads()),
    ToolSpec("update_memory", "Update a memory", writes=True, annotations=_writes()),
    ToolSpec(
        "forget_memory", "Forget memories", writes=True, annotations=_writes(destructive=True)
    ),
    ToolSpec(
        "forget_matching",
        "Forget memories by filter",
        writes=True,
        annotations=_writes(destructive=True),
    ),
)
