"""Commands over the interactions a filter selects: ``list`` (a page at a time), ``count`` and
``forget``. ``list`` and ``count`` only read: they never create a store."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from raeburnmemory.cli._choices import choice_option
from raeburnmemory.cli._filters import (
    AGENT_OPTION,
    SESSION_OPTION,
    WHERE_OPTION,
    Filters,
    ListingMemory,
    number_or_text,
    parse_moment,
    walk_pages,
)
from raeburnmemory.cli._output import Column
from raeburnmemory.cli._records import confirm, interaction_row
from raeburnmemory.cli._settings import Settings, settings_of

if TYPE_CHECKING:
    from raeburnmemory.core.model import Interaction

__all__ = ["count", "forget", "list_interactions"]

_COLUMNS = (
    Column("prompt_id", "prompt"),
    Column("time", "time"),
    Column("session_id", "session"),
    Column("agent_id", "agent"),
    Column("prompt_text", "prompt text", text=True),
    Column("response_text", "response text", text=True),
)
_MAX_LIMIT = 10_000

_SINCE = typer.Option(
    "--since", help="Only from this moment on (ISO 8601 or POSIX seconds).", metavar="TIME"
)
_UNTIL = typer.Option(
    "--until", help="Only up to this moment, inclusive (ISO 8601 or POSIX seconds).", metavar="TIME"
)


class Order(str, Enum):
    """The order of ``list``: oldest or newest first."""

    ASC = "asc"
    DESC = "desc"


def _memory(settings: Settings, *, create: bool = False) -> ListingMemory:
    """The local graph or the server's client; both have the listing methods."""
    return cast("ListingMemory", settings.open_memory(create=create))


def _plural(count: int) -> str:
    return f"{count} interaction{'s' * (count != 1)}"


def list_interactions(
    ctx: typer.Context,
    session: Annotated[str | None, SESSION_OPTION] = None,
    agent: Annotated[str | None, AGENT_OPTION] = None,
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    where: Annotated[str | None, WHERE_OPTION] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            max=_MAX_LIMIT,
            help=f"Interactions per page, from 1 to {_MAX_LIMIT:,}.",
            metavar="N",
        ),
    ] = 20,
    cursor: Annotated[
        str | None,
        typer.Option(
            "--cursor",
            help="Where the previous page ended (the cursor it printed), with the same filters.",
            metavar="CURSOR",
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    order: Annotated[
        Order,
        choice_option("--order", Order, "asc: oldest first; desc: newest first."),
    ] = Order.ASC,
) -> None:
    """List the stored interactions in time order, a page at a time (--all: every page).

    After a page that is not the last, the cursor of the next one is printed (on standard
    error, or as next_cursor with --json): give it to --cursor with the same filters.
    """
    filters = Filters.of(session=session, agent=agent, since=since, until=until, where=where)
    settings = settings_of(ctx)
    out = settings.output
    query = {**filters.kwargs(), "limit": limit, "cursor": cursor, "order": order.value}
    # Plain lines go out a page at a time; a terminal's table and JSON need every row first.
    streaming = not out.json_mode and not out.rich
    items: list[Interaction] = []
    with _memory(settings) as memory:
        for page in walk_pages(memory, **query):
            if streaming:
                out.table(_COLUMNS, [interaction_row(item) for item in page.items])
            else:
                items.extend(page.items)
            next_cursor = page.next_cursor
            if not every:
                break
    if not streaming:
        out.table(
            _COLUMNS,
            [interaction_row(item) for item in items],
            data={"items": [item.to_dict() for item in items], "next_cursor": next_cursor},
            empty="no interactions",
        )
    if next_cursor is not None:
        out.note(f"next page: --cursor {next_cursor}")


def count(
    ctx: typer.Context,
    session: Annotated[str | None, SESSION_OPTION] = None,
    agent: Annotated[str | None, AGENT_OPTION] = None,
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    where: Annotated[str | None, WHERE_OPTION] = None,
) -> None:
    """Count the stored interactions that pass every filter given (all of them with none)."""
    filters = Filters.of(session=session, agent=agent, since=since, until=until, where=where)
    settings = settings_of(ctx)
    with _memory(settings) as memory:
        number = memory.count(**filters.kwargs())
    settings.output.message(str(number), {"count": number})


def forget(
    ctx: typer.Context,
    session: Annotated[str | None, SESSION_OPTION] = None,
    agent: Annotated[str | None, AGENT_OPTION] = None,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Only what happened strictly before this moment (ISO 8601 or POSIX seconds).",
            metavar="TIME",
        ),
    ] = None,
    where: Annotated[str | None, WHERE_OPTION] = None,
    everything: Annotated[
        bool, typer.Option("--everything", help="With no filter: forget every interaction.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
) -> None:
    """Delete every interaction that passes every filter given, in one step; asks first,
    saying how many would go. With no filter it refuses, unless --everything."""
    filters = Filters.of(session=session, agent=agent, where=where)
    parse_moment(before, "--before")
    if filters.is_empty and before is None and not everything:
        raise typer.BadParameter(
            "give what to forget (--session, --agent, --before, --where), or --everything "
            "to forget every interaction"
        )
    settings = settings_of(ctx)
    out = settings.output
    chosen = {
        "session_id": filters.session_id,
        "agent_id": filters.agent_id,
        "where": filters.where,
        "before": number_or_text(before),
    }
    with _memory(settings) as memory:
        doomed = memory.count(**{**filters.kwargs(), "until": _just_before(before)})
        if doomed == 0:
            out.message("nothing to forget: no interaction passes the filters", {"forgotten": 0})
            return
        if not yes:
            confirm(f"Forget {_plural(doomed)} from {settings.describe()}?")
        gone = memory.forget(**chosen, everything=everything)
    out.message(f"forgot {_plural(gone)}", {"forgotten": gone})


def _just_before(raw: str | None) -> Any:
    """The inclusive ``until`` of ``count`` that selects what ``forget(before=raw)`` deletes."""
    if raw is None:
        return None
    from raeburnmemory.core.model import parse_timestamp

    moment = parse_timestamp(number_or_text(raw), name="--before")
    try:
        return moment - timedelta(microseconds=1)
    except OverflowError:  # the first moment there is: nothing happened before it
        return moment
