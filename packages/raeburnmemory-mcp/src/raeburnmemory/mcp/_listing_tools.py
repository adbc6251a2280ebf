"""The tools that list, count, update and forget memories by filter (mixed into MemoryTools)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from raeburnmemory.mcp._errors import tool_errors
from raeburnmemory.mcp.models import ForgetCount, Memory, MemoryCount, MemoryPage

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph

__all__ = ["MAX_PAGE", "ListingTools", "Time", "Where"]

#: The most memories one ``list_memories`` call returns.
MAX_PAGE = 200

Time = Annotated[
    str | None,
    Field(description="ISO 8601 date and time, UTC when it has no offset."),
]
Where = Annotated[
    dict[str, Any] | None,
    Field(
        description='A filter on the metadata, as in Chroma or MongoDB: {"user": "ana"}, '
        '{"n": {"$gte": 2}}, {"$or": [...]}; operators $eq $ne $in $nin $gt $gte $lt $lte '
        "$exists $and $or."
    ),
]
_Session = Annotated[str | None, Field(description="Only this session.")]
_Agent = Annotated[str | None, Field(description="Only this agent's answers.")]


class ListingTools:
    """Listing, counting, updating and forgetting by filter, over ``self.memory``."""

    memory: MemoryGraph

    def list_memories(
        self,
        session_id: _Session = None,
        agent_id: _Agent = None,
        since: Time = None,
        until: Time = None,
        where: Where = None,
        limit: Annotated[
            int, Field(ge=1, le=MAX_PAGE, description="How many memories at most.")
        ] = 20,
        cursor: Annotated[
            str | None,
            Field(description="The next_cursor of the previous page, with the same filters."),
        ] = None,
        order: Annotated[
            Literal["asc", "desc"], Field(description="asc: oldest first; desc: newest first.")
        ] = "asc",
    ) -> MemoryPage:
        """One page of the stored memories that pass every filter, in time order; pass
        next_cursor back as cursor for the next page (it is null after the last one)."""
        with tool_errors():
            page = self.memory.interactions(
                session_id, agent_id, since, until, where, limit, cursor, order
            )
        return MemoryPage(
            memories=[Memory.of(item) for item in page.items], next_cursor=page.next_cursor
        )

    def count_memories(
        self,
        session_id: _Session = None,
        agent_id: _Agent = None,
        since: Time = None,
        until: Time = None,
        where: Where = None,
    ) -> MemoryCount:
        """How many stored memories pass every filter given."""
        with tool_errors():
            total = self.memory.count(session_id, agent_id, since, until, where)
        return MemoryCount(count=total)

    def update_memory(
        self,
        prompt_id: Annotated[str, Field(description="The id of the memory's prompt.")],
        response: Annotated[str | None, Field(description="The new response text.")] = None,
        prompt_text: Annotated[
            str | None, Field(description="The new prompt text (searched by its new meaning).")
        ] = None,
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Replaces the memory's metadata.")
        ] = None,
    ) -> Memory:
        """Change a stored memory's response, prompt text or metadata; what is not given
        stays as it is. Returns the memory as stored now."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("response", response),
                ("prompt_text", prompt_text),
                ("metadata", metadata),
            )
            if value is not None
        }
        if not changes:
            raise ToolError("give response, prompt_text or metadata to change; nothing changed")
        with tool_errors():
            return Memory.of(self.memory.update_interaction(prompt_id, **changes))

    def forget_matching(
        self,
        where: Where = None,
        session_id: _Session = None,
        agent_id: _Agent = None,
        before: Annotated[
            str | None,
            Field(description="Only what was recorded strictly before this ISO 8601 moment."),
        ] = None,
        everything: Annotated[
            bool, Field(description="Must be true to forget every memory when no filter is given.")
        ] = False,
    ) -> ForgetCount:
        """Delete every memory that passes every filter given, with responses, vectors and
        links, and say how many. With no filter nothing is deleted unless everything is true."""
        with tool_errors():
            deleted = self.memory.forget(
                where=where,
                session_id=session_id,
                agent_id=agent_id,
                before=before,
                everything=everything,
            )
        return ForgetCount(count=deleted)
