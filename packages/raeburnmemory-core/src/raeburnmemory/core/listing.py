"""Listing and counting stored interactions: the query, the order, pages and their cursors.

A listing walks the interactions that pass a :class:`ListQuery` in **time order**: by timestamp,
then by prompt id (ids compared character by character), both of which a record keeps for life.
A page ends at a :class:`Position` (the last record's timestamp in microseconds and prompt id);
the next page starts strictly after it. Because the position is a value, not a record, a cursor
stays valid while other processes write: a record that existed when the listing began and is
still there is listed exactly once, whatever was added or deleted meanwhile (records added
later appear if they sort after the position).

A cursor is an opaque string: the position, the order and a fingerprint of the filters, with a
checksum. A cursor that was altered, or is used with other filters or another order, raises
:class:`~raeburnmemory.core.errors.InvalidCursorError`.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from raeburnmemory.core._cursors import CURSOR_VERSION, seal, unseal
from raeburnmemory.core.errors import ConfigurationError, InvalidCursorError
from raeburnmemory.core.model import Interaction, parse_timestamp
from raeburnmemory.core.where import Where

__all__ = [
    "MAX_PAGE_SIZE",
    "ListQuery",
    "Order",
    "Page",
    "Position",
    "decode_cursor",
    "encode_cursor",
    "micros",
    "select_page",
]

#: The most interactions one page holds.
MAX_PAGE_SIZE = 10_000
#: ``"asc"``: oldest first; ``"desc"``: newest first.
Order = Literal["asc", "desc"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the POSIX epoch (exact)."""
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, order=True)
class Position:
    """Where a listing stands: a record's timestamp (microseconds) and prompt id."""

    micros: int
    prompt_id: str

    @classmethod
    def of(cls, item: Interaction) -> Position:
        """The position of an interaction in time order."""
        return cls(micros(item.timestamp), item.prompt_id)


@dataclass(frozen=True)
class ListQuery:
    """Which interactions a listing, count or forget selects (every part given must hold).

    ``since`` and ``until`` are inclusive bounds on the timestamp.
    """

    session_id: str | None = None
    agent_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    where: Where | None = None

    @classmethod
    def build(
        cls,
        session_id: object = None,
        agent_id: object = None,
        since: Any = None,
        until: Any = None,
        where: Where | Mapping[str, Any] | None = None,
    ) -> ListQuery:
        """A query from a caller's arguments: ids as text, times as ``parse_timestamp`` takes
        them, ``where`` in the filter language (``ConfigurationError`` /
        ``InvalidFilterError`` naming the bad part)."""
        for name, value in (("session_id", session_id), ("agent_id", agent_id)):
            if value is not None and not isinstance(value, str):
                raise ConfigurationError(f"{name} must be a string, not {type(value).__name__}")
        parsed = Where.of(where)
        return cls(
            session_id=session_id,  # type: ignore[arg-type]
            agent_id=agent_id,  # type: ignore[arg-type]
            since=None if since is None else parse_timestamp(since, name="since"),
            until=None if until is None else parse_timestamp(until, name="until"),
            where=None if parsed is None or parsed.everything else parsed,
        )

    @property
    def is_empty(self) -> bool:
        """True when the query selects every interaction."""
        return self == _EVERYTHING

    @property
    def since_micros(self) -> int | None:
        """``since`` in microseconds since the epoch, or ``None``."""
        return None if self.since is None else micros(self.since)

    @property
    def until_micros(self) -> int | None:
        """``until`` in microseconds since the epoch, or ``None``."""
        return None if self.until is None else micros(self.until)

    def matches(self, item: Interaction) -> bool:
        """Whether an interaction passes every part of the query (the reference evaluation)."""
        if self.session_id is not None and item.session_id != self.session_id:
            return False
        if self.agent_id is not None and item.agent_id != self.agent_id:
            return False
        moment = micros(item.timestamp)
        since, until = self.since_micros, self.until_micros
        if since is not None and moment < since:
            return False
        if until is not None and moment > until:
            return False
        return self.where is None or self.where.matches(item.metadata)

    def fingerprint(self) -> str:
        """A short digest of the query, so a cursor is used only with the filters it came from."""
        parts = [
            self.session_id,
            self.agent_id,
            self.since_micros,
            self.until_micros,
            None if self.where is None else self.where.to_mapping(),
        ]
        text = json.dumps(parts, sort_keys=True, ensure_ascii=True, allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_EVERYTHING = ListQuery()


@dataclass
class Page:
    """One page of a listing: its interactions and the cursor of the next page.

    ``next_cursor`` is ``None`` after the last page.
    """

    items: list[Interaction] = field(default_factory=list)
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[Interaction]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def check_order(order: object) -> bool:
    """Whether ``order`` is ``"desc"`` (``ConfigurationError`` unless ``"asc"`` or ``"desc"``)."""
    if order not in ("asc", "desc"):
        raise ConfigurationError(f"order must be 'asc' or 'desc', not {order!r}")
    return order == "desc"


def check_limit(limit: object) -> int:
    """``limit`` if it is a whole number from 1 to :data:`MAX_PAGE_SIZE`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}, not {limit!r}"
        )
    return limit


_SALT = b"raeburnmemory-cursor:"


def encode_cursor(query: ListQuery, descending: bool, position: Position) -> str:
    """The opaque cursor of the page after ``position``."""
    order = "desc" if descending else "asc"
    fields = [CURSOR_VERSION, order, query.fingerprint(), position.micros, position.prompt_id]
    return seal(_SALT, fields)


def decode_cursor(cursor: object, query: ListQuery, descending: bool) -> Position:
    """The position a cursor stands for (``InvalidCursorError`` if it was altered, or came from
    a listing with other filters or another order)."""
    fields = unseal(cursor, _SALT, 5, "was altered or cut short")
    version, order, fingerprint, moment, prompt_id = fields
    if version != CURSOR_VERSION or not isinstance(moment, int) or not isinstance(prompt_id, str):
        raise InvalidCursorError("cursor was made by another version of raeburnmemory")
    if order != ("desc" if descending else "asc"):
        raise InvalidCursorError(f"cursor belongs to a listing in order {order!r}")
    if fingerprint != query.fingerprint():
        raise InvalidCursorError("cursor belongs to a listing with other filters")
    return Position(moment, prompt_id)


def select_page(
    items: Iterable[Interaction],
    query: ListQuery,
    after: Position | None,
    limit: int,
    *,
    descending: bool = False,
) -> list[Interaction]:
    """The first ``limit`` interactions of ``items`` that pass ``query`` and come after
    ``after`` in time order (newest first when ``descending``), by brute force."""

    def after_position(position: Position) -> bool:
        if after is None:
            return True
        return position < after if descending else position > after

    keyed = (
        (position, item)
        for item in items
        if query.matches(item) and after_position(position := Position.of(item))
    )
    choose = heapq.nlargest if descending else heapq.nsmallest
    return [item for _, item in choose(limit, keyed, key=lambda pair: pair[0])]
