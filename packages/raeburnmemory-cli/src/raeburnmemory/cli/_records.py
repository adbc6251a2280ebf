"""Commands about single interactions and sessions: ``add``, ``show``, ``history``, ``delete``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from raeburnmemory.cli._filters import OnConflict, json_object, on_conflict_option
from raeburnmemory.cli._output import Column
from raeburnmemory.cli._settings import settings_of

if TYPE_CHECKING:
    from raeburnmemory.cli._filters import ListingMemory
    from raeburnmemory.core.model import Interaction

__all__ = [
    "add",
    "confirm",
    "delete",
    "history",
    "interaction_fields",
    "interaction_row",
    "show",
    "update",
]

_HISTORY_COLUMNS = (
    Column("prompt_id", "prompt"),
    Column("time", "time"),
    Column("agent_id", "agent"),
    Column("prompt_text", "prompt text", text=True),
    Column("response_text", "response text", text=True),
)


_SESSION_COLUMNS = (
    Column("session_id", "session"),
    Column("interactions", "interactions", justify="right"),
    Column("first", "first"),
    Column("last", "last"),
)
_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _session_row(session_id: str, items: list[Interaction]) -> dict[str, Any]:
    """A session as ``history`` lists it: its size and its first and last times."""
    times = [item.timestamp for item in items]
    return {
        "session_id": session_id,
        "interactions": len(items),
        "first": min(times).strftime(_TIME) if times else None,
        "last": max(times).strftime(_TIME) if times else None,
    }


def _metadata(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else json_object(raw, "--metadata")


def confirm(question: str) -> None:
    """Ask on standard error, read the answer from standard input; all but yes aborts."""
    sys.stderr.write(f"{question} [y/N]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not sys.stdin.isatty():  # the answer was not echoed: end the question's line
        sys.stderr.write("\n")
    if answer.strip().lower() not in ("y", "yes"):
        raise typer.Abort()


def interaction_fields(item: Interaction) -> dict[str, Any]:
    """An interaction as the rows and records the commands print."""
    agent = item.agent_id if item.agent_name is None else f"{item.agent_id} ({item.agent_name})"
    return {
        "prompt_id": item.prompt_id,
        "session_id": item.session_id,
        "timestamp": item.timestamp.isoformat(timespec="seconds"),
        "agent": agent,
        "prompt_text": item.prompt_text,
        "response_id": item.response_id,
        "response_text": item.response_text,
        "metadata": dict(item.metadata) or None,
    }


def interaction_row(item: Interaction) -> dict[str, Any]:
    """An interaction as a row of the tables ``history`` and ``list`` print."""
    return {
        "prompt_id": item.prompt_id,
        "time": item.timestamp.strftime(_TIME),
        "session_id": item.session_id,
        "agent_id": item.agent_id,
        "prompt_text": item.prompt_text,
        "response_text": item.response_text,
    }


def _metadata_option(what: str) -> Any:
    """``--metadata JSON``, its help saying what the object is ``what``."""
    return typer.Option("--metadata", help=f"A JSON object {what}: '{{\"k\": 1}}'.", metavar="JSON")


def add(
    ctx: typer.Context,
    prompt_id: Annotated[str, typer.Option("--prompt-id", help="Id of the prompt.", metavar="ID")],
    prompt_text: Annotated[
        str, typer.Option("--prompt-text", help="Text of the prompt.", metavar="TEXT")
    ],
    response_id: Annotated[
        str, typer.Option("--response-id", help="Id of the response.", metavar="ID")
    ],
    response_text: Annotated[
        str, typer.Option("--response-text", help="Text of the response.", metavar="TEXT")
    ],
    agent_id: Annotated[
        str, typer.Option("--agent-id", help="Id of the agent that answered.", metavar="ID")
    ],
    session_id: Annotated[
        str, typer.Option("--session-id", help="Id of the session.", metavar="ID")
    ],
    agent_name: Annotated[
        str | None, typer.Option("--agent-name", help="Name of the agent.", metavar="NAME")
    ] = None,
    metadata: Annotated[str | None, _metadata_option("kept with the interaction")] = None,
    timestamp: Annotated[
        str | None,
        typer.Option(
            "--timestamp", help="When it happened, ISO 8601 (default: now).", metavar="TIME"
        ),
    ] = None,
    on_conflict: Annotated[OnConflict, on_conflict_option("An interaction")] = OnConflict.ERROR,
) -> None:
    """Record one interaction: a prompt, its response, the agent and the session."""
    from raeburnmemory.core.records import make_interaction

    settings = settings_of(ctx)
    record = make_interaction(  # checked before the store is opened, let alone made
        {"id": prompt_id, "text": prompt_text},
        {"id": response_id, "text": response_text},
        {"id": agent_id} if agent_name is None else {"id": agent_id, "name": agent_name},
        session_id,
        metadata=_metadata(metadata),
        timestamp=timestamp,
    )
    # Given only when it is not the default: a server of an older version knows no other.
    choice = {} if on_conflict is OnConflict.ERROR else {"on_conflict": on_conflict.value}
    with settings.open_memory(create=True) as mg:
        added = bool(mg.batch_add([record], **choice))
    if added:
        text = f"stored {prompt_id}" if on_conflict is OnConflict.REPLACE else f"added {prompt_id}"
    elif on_conflict is OnConflict.SKIP:
        text = f"{prompt_id} is stored already; kept as it is"
    else:
        text = f"{prompt_id} is stored already; nothing changed"
    settings.output.message(
        text, {"prompt_id": prompt_id, "added": added, "store": settings.describe()}
    )


def update(
    ctx: typer.Context,
    prompt_id: Annotated[str, typer.Argument(help="Id of the prompt.", metavar="PROMPT_ID")],
    response: Annotated[
        str | None, typer.Option("--response", help="The new response text.", metavar="TEXT")
    ] = None,
    metadata: Annotated[str | None, _metadata_option("that replaces the metadata")] = None,
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", help="The new prompt text (re-embedded).", metavar="TEXT"),
    ] = None,
) -> None:
    """Change parts of a stored interaction: its response, its metadata or its prompt text.

    The prompt keeps its id, agent, session, time and links; only a new prompt text is
    embedded again.
    """
    changes: dict[str, Any] = {}
    if response is not None:
        changes["response"] = response
    if metadata is not None:
        changes["metadata"] = _metadata(metadata)
    if prompt is not None:
        changes["prompt_text"] = prompt
    if not changes:
        raise typer.BadParameter("give what to change: --response, --metadata or --prompt")
    settings = settings_of(ctx)
    with settings.open_memory(create=False) as mg:
        item = cast("ListingMemory", mg).update_interaction(prompt_id, **changes)
    settings.output.record(interaction_fields(item), data=item.to_dict())


def show(
    ctx: typer.Context,
    prompt_id: Annotated[str, typer.Argument(help="Id of the prompt.", metavar="PROMPT_ID")],
) -> None:
    """Show one interaction."""
    settings = settings_of(ctx)
    with settings.open_memory(create=False) as mg:
        item = mg.get_interaction(prompt_id)
    settings.output.record(interaction_fields(item), data=item.to_dict())


def history(
    ctx: typer.Context,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            help="The session to show; without it, list the sessions with their sizes and times.",
            metavar="ID",
        ),
    ] = None,
) -> None:
    """Show a session's interactions in order, or list the sessions with their sizes and times."""
    settings = settings_of(ctx)
    out = settings.output
    with settings.open_memory(create=False) as mg:
        if session is None:
            sessions = mg.sessions()
            out.table(
                _SESSION_COLUMNS,
                [_session_row(sid, mg.get_session(sid)) for sid in sessions],
                data=sessions,
                empty="the store holds no sessions yet",
            )
            return
        items = mg.get_session(session)
    out.table(
        _HISTORY_COLUMNS,
        [interaction_row(item) for item in items],
        data=[item.to_dict() for item in items],
        title=f"session {session}",
    )


def delete(
    ctx: typer.Context,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Delete this interaction.", metavar="ID")
    ] = None,
    session: Annotated[
        str | None,
        typer.Option("--session", help="Delete this session and its interactions.", metavar="ID"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
) -> None:
    """Delete an interaction or a whole session, from the graph, the vectors and every file."""
    if (prompt is None) == (session is None):
        raise typer.BadParameter("give exactly one of --prompt ID or --session ID")
    settings = settings_of(ctx)
    with settings.open_memory(create=False) as mg:
        if prompt is not None:
            mg.get_interaction(prompt)  # NotFoundError before asking
            what = f"interaction {prompt}"
        else:
            assert session is not None
            count = len(mg.get_session(session))
            what = f"session {session} and its {count} interaction{'s' * (count != 1)}"
        if not yes:
            confirm(f"Delete {what} from {settings.describe()}?")
        if prompt is not None:
            mg.delete_interaction(prompt)
            deleted = [prompt]
        else:
            assert session is not None
            deleted = mg.delete_session(session)
    settings.output.message(f"deleted {what}", {"deleted": deleted})
