"""The filter options ``list``, ``count``, ``forget`` and ``similar`` share, checked before any
store is opened: ``--session``, ``--agent``, ``--since``, ``--until``, ``--before`` and
``--where '<JSON>'`` (a metadata filter in the operator language of MongoDB and Chroma)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

import typer

from raeburnmemory.cli._choices import choice_option
from raeburnmemory.core.errors import InvalidFilterError

if TYPE_CHECKING:
    from raeburnmemory.core.model import Interaction

__all__ = [
    "AGENT_OPTION",
    "SESSION_OPTION",
    "WHERE_OPTION",
    "Filters",
    "ListingMemory",
    "ListingPage",
    "OnConflict",
    "json_object",
    "number_or_text",
    "on_conflict_option",
    "parse_moment",
    "parse_where",
    "walk_pages",
]


class OnConflict(str, Enum):
    """What ``add`` and ``import`` do with a prompt id stored with other content."""

    ERROR = "error"
    SKIP = "skip"
    REPLACE = "replace"


SESSION_OPTION = typer.Option("--session", help="Only interactions of this session.", metavar="ID")
AGENT_OPTION = typer.Option("--agent", help="Only interactions this agent answered.", metavar="ID")
WHERE_OPTION = typer.Option(
    "--where",
    help='Only interactions whose metadata passes this JSON filter: \'{"user": "ana"}\', '
    '\'{"n": {"$gte": 2}}\' ($eq $ne $in $nin $gt $gte $lt $lte $exists $and $or).',
    metavar="JSON",
)


def on_conflict_option(what: str) -> Any:
    """``--on-conflict error|skip|replace``, its help starting with ``what``."""
    return choice_option(
        "--on-conflict",
        OnConflict,
        f"{what} whose prompt id is stored with other content: error (refuse it), skip "
        "(keep what is stored) or replace (store the new content).",
    )


def json_object(raw: str, option: str, example: str = '{"k": 1}') -> dict[str, Any]:
    """``raw`` read as a JSON object, or a usage error of ``option`` saying what it is."""
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON ({exc})", param_hint=f"'{option}'") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(
            f"must be a JSON object such as '{example}', not {type(value).__name__}",
            param_hint=f"'{option}'",
        )
    return value


def parse_where(raw: str | None) -> dict[str, Any] | None:
    """``--where``'s JSON as a checked filter mapping (a usage error naming what is wrong)."""
    if raw is None:
        return None
    value = json_object(raw, "--where", '{"user": "ana"}')
    from raeburnmemory.core.where import Where

    try:
        Where.parse(value)
    except InvalidFilterError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--where'") from None
    return value


def parse_moment(raw: str | None, option: str) -> str | None:
    """``raw`` checked as a moment (ISO 8601 or POSIX seconds), kept as given for the library."""
    if raw is None:
        return None
    from raeburnmemory.core.errors import ConfigurationError
    from raeburnmemory.core.model import parse_timestamp

    try:
        parse_timestamp(number_or_text(raw), name=option)
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'") from None
    return raw


@dataclass(frozen=True)
class Filters:
    """The filters of one command, checked: keyword arguments of the library's calls."""

    session_id: str | None = None
    agent_id: str | None = None
    since: str | float | None = None
    until: str | float | None = None
    where: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        *,
        session: str | None = None,
        agent: str | None = None,
        since: str | None = None,
        until: str | None = None,
        where: str | None = None,
    ) -> Filters:
        """The checked filters of the command's options."""
        return cls(
            session_id=session,
            agent_id=agent,
            since=number_or_text(parse_moment(since, "--since")),
            until=number_or_text(parse_moment(until, "--until")),
            where=parse_where(where),
        )

    @property
    def is_empty(self) -> bool:
        """Whether no filter was given."""
        return all(value is None for value in self.kwargs().values())

    def kwargs(self) -> dict[str, Any]:
        """The filters as keyword arguments of ``interactions`` and ``count``."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def number_or_text(raw: str | None) -> str | float | None:
    """A moment given as a number is POSIX seconds for the library, else ISO 8601 text."""
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


class ListingPage(Protocol):
    """A page of interactions (``MemoryGraph.interactions``' and the client's)."""

    @property
    def items(self) -> list[Interaction]:
        """The interactions of this page."""

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page; ``None`` after the last."""


class ListingMemory(Protocol):
    """What ``list``, ``count``, ``update`` and ``forget`` use: a local graph or a server's
    client, which have these methods of the same names."""

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> Any: ...

    def interactions(self, **kwargs: Any) -> ListingPage:
        """One page of interactions."""

    def count(self, **kwargs: Any) -> int:
        """How many interactions pass the filters."""

    def forget(self, **kwargs: Any) -> int:
        """Delete the interactions that pass the filters; how many went."""

    def update_interaction(self, prompt_id: str, **kwargs: Any) -> Interaction:
        """Change parts of one interaction."""


def walk_pages(memory: ListingMemory, **kwargs: Any) -> Iterator[ListingPage]:
    """Every page from ``kwargs["cursor"]`` on, following ``next_cursor``."""
    while True:
        page = memory.interactions(**kwargs)
        yield page
        if page.next_cursor is None:
            return
        kwargs["cursor"] = page.next_cursor
