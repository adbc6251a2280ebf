"""The ``similar`` command: prompts most like a text, best first."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Annotated

import typer

from raeburnmemory.cli._output import Column, Output
from raeburnmemory.cli._settings import settings_of
from raeburnmemory.core.model import SearchHit

__all__ = ["Mode", "print_hits", "similar"]

_HIT_COLUMNS = (
    Column("id", "prompt"),
    Column("score", "score", justify="right"),
    Column("session_id", "session"),
    Column("agent_id", "agent"),
    Column("prompt_text", "prompt text", text=True),
)


class Mode(str, Enum):
    """How ``similar`` ranks prompts."""

    VECTOR = "vector"
    KEYWORD = "keyword"
    HYBRID = "hybrid"


def print_hits(out: Output, query: str, hits: Sequence[SearchHit]) -> None:
    """Print search hits: a table, ``id<TAB>score<TAB>...`` lines, or JSON with ids and hits."""
    out.table(
        _HIT_COLUMNS,
        [hit.to_dict() for hit in hits],
        data={"query": query, "ids": [hit.id for hit in hits], "hits": [h.to_dict() for h in hits]},
        title=f"prompts like {query!r}",
        empty="no similar prompts",
    )


def similar(
    ctx: typer.Context,
    text: Annotated[str, typer.Option("--text", help="The text to compare the prompts with.")],
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, max=10_000, help="How many prompts at most.")
    ] = 5,
    session: Annotated[
        str | None, typer.Option("--session", help="Only prompts of this session.", metavar="ID")
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Only prompts this agent answered.", metavar="ID")
    ] = None,
    min_score: Annotated[
        float | None, typer.Option("--min-score", help="Leave out weaker matches.")
    ] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            case_sensitive=False,
            help="vector similarity, keyword match or both.",
        ),
    ] = Mode.VECTOR,
) -> None:
    """Find the stored prompts most similar to a text: ids and scores, best first."""
    settings = settings_of(ctx)
    with settings.open_graph(create=False) as mg:
        hits = mg.search(
            text,
            top_k,
            session_id=session,
            agent_id=agent,
            min_score=min_score,
            mode=mode.value,
        )
    print_hits(settings.output, text, hits)
