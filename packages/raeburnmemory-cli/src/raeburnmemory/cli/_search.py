"""The ``similar`` command: prompts most like a text, best first."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from raeburnmemory.cli._choices import choice_option
from raeburnmemory.cli._filters import WHERE_OPTION, parse_where
from raeburnmemory.cli._output import Column, Output
from raeburnmemory.cli._settings import settings_of
from raeburnmemory.core.model import MAX_TOP_K

if TYPE_CHECKING:
    from raeburnmemory.core.model import SearchHit

__all__ = ["Mode", "print_hits", "similar", "top_k_option"]

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


def top_k_option(what: str) -> Any:
    """``--top-k``/``-k N``, bounded as the library bounds it, the bounds stated in the help."""
    return typer.Option(
        "--top-k", "-k", min=1, max=MAX_TOP_K, help=f"{what}, from 1 to {MAX_TOP_K}.", metavar="N"
    )


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
    text: Annotated[
        str | None,
        typer.Argument(
            help="The text to compare the prompts with.", metavar="TEXT", show_default=False
        ),
    ] = None,
    text_option: Annotated[
        str | None,
        typer.Option("--text", help="The text, as an option (the same as TEXT).", metavar="TEXT"),
    ] = None,
    top_k: Annotated[int, top_k_option("How many prompts at most")] = 5,
    session: Annotated[
        str | None, typer.Option("--session", help="Only prompts of this session.", metavar="ID")
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Only prompts this agent answered.", metavar="ID")
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", help="Leave out weaker matches.", metavar="SCORE"),
    ] = None,
    mode: Annotated[
        Mode,
        choice_option("--mode", Mode, "vector similarity, keyword match or both."),
    ] = Mode.VECTOR,
    where: Annotated[str | None, WHERE_OPTION] = None,
) -> None:
    """Find the stored prompts most similar to TEXT: ids and scores, best first."""
    if text is not None and text_option is not None and text != text_option:
        raise typer.BadParameter("give the text once: as TEXT or as --text", param_hint="'TEXT'")
    query = text if text is not None else text_option
    if query is None:
        raise typer.BadParameter(
            'give the text to search for: raeburnmemory similar "your question"',
            param_hint="'TEXT'",
        )
    metadata_filter = parse_where(where)
    # Given only when used: a server of an older version takes no such filter.
    chosen: dict[str, Any] = {} if metadata_filter is None else {"where": metadata_filter}
    settings = settings_of(ctx)
    with settings.open_memory(create=False) as mg:
        hits = mg.search(
            query,
            top_k,
            session_id=session,
            agent_id=agent,
            min_score=min_score,
            mode=mode.value,
            **chosen,
        )
    print_hits(settings.output, query, hits)
