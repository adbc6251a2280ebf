"""What a record may hold: the rules every store applies before it writes anything.

One place decides what is acceptable, so that whatever one store (or the HTTP API) accepted,
every other store can hold and every reader can read back:

* **ids** (prompt, response, agent and session ids, link relations): strings of 1 to
  :data:`MAX_ID_LENGTH` characters, not only whitespace, without control characters (Unicode
  category ``Cc``: ``U+0000``-``U+001F``, ``U+007F``-``U+009F``) and without lone surrogates;
* **texts and names** (prompt and response texts, the agent's name): strings without lone
  surrogates (every character must be encodable as UTF-8) and without NUL (``U+0000``);
* **metadata and node attributes**: JSON objects with string keys whose values are strings,
  finite numbers, booleans, ``null``, lists and objects, nested at most :data:`MAX_DEPTH`
  levels (the object itself is level 1) and at most :data:`MAX_JSON_BYTES` bytes once
  serialized as compact UTF-8 JSON (each of metadata, prompt, response and agent attributes);
* **timestamps**: aware datetimes that can be expressed in UTC between the years 1 and 9999;
* **vectors**: finite numbers only (no NaN, no infinity).

Each check raises :class:`~raeburnmemory.core.errors.InvalidInteractionError` naming the field.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

import numpy as np

from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.model import MAX_TOP_K, Interaction

__all__ = [
    "MAX_DEPTH",
    "MAX_ID_LENGTH",
    "MAX_JSON_BYTES",
    "MAX_TOP_K",
    "check_id",
    "check_interaction",
    "check_json_object",
    "check_records",
    "check_text",
    "check_timestamp",
    "check_vectors",
    "id_problem",
]

#: The deepest metadata or attributes may be nested (the object itself is level 1).
MAX_DEPTH = 32
#: The largest metadata or attributes may be, serialized as compact UTF-8 JSON.
MAX_JSON_BYTES = 64 * 1024
#: The longest an id may be, in characters.
MAX_ID_LENGTH = 1024

_SHOWN = 40  # characters of a bad value quoted in a message
_CHECK_ROWS = 8192  # vectors checked for NaN at a time


def _shown(value: str) -> str:
    text = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
    return ascii(text)


def _surrogate_at(value: str) -> int:
    """The index of the first lone surrogate in ``value``, or -1."""
    if value.isascii():
        return -1
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return -1


def id_problem(value: object) -> str | None:
    """Why ``value`` cannot be an id, or ``None`` when it can (the rule in the module text)."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value or value.isspace():
        return "must not be empty or only whitespace"
    if len(value) > MAX_ID_LENGTH:
        return f"must be at most {MAX_ID_LENGTH} characters, not {len(value)}"
    if not value.isprintable():  # a cheap test first: most ids are printable
        for position, char in enumerate(value):
            category = unicodedata.category(char)
            if category == "Cc":
                return f"must not contain control characters (U+{ord(char):04X} at {position})"
            if category == "Cs":
                return f"must not contain lone surrogates (U+{ord(char):04X} at {position})"
    return None


def check_id(value: object, what: str) -> str:
    """``value`` if it is an acceptable id, else ``InvalidInteractionError`` naming ``what``."""
    # the common case first: printable text has no control character and no surrogate
    if (
        type(value) is str
        and 0 < len(value) <= MAX_ID_LENGTH
        and value.isprintable()
        and not value.isspace()
    ):
        return value
    problem = id_problem(value)
    if problem is not None:
        shown = _shown(value) if isinstance(value, str) else ""
        raise InvalidInteractionError(f"{what} {shown} {problem}".replace("  ", " "))
    assert isinstance(value, str)
    return value


def check_text(value: object, what: str) -> str:
    """``value`` if it is a string UTF-8 can hold, else ``InvalidInteractionError``."""
    if not isinstance(value, str):
        raise InvalidInteractionError(f"{what} must be a string, not {type(value).__name__}")
    position = _surrogate_at(value)
    if position >= 0:
        raise InvalidInteractionError(
            f"{what} contains a lone surrogate (U+{ord(value[position]):04X} at {position}), "
            "which UTF-8 cannot hold"
        )
    if "\x00" in value:
        raise InvalidInteractionError(
            f"{what} contains NUL (U+0000 at {value.index(chr(0))}), which PostgreSQL text "
            "cannot hold"
        )
    return value


def _where(path: list[str | int]) -> str:
    return "".join(f"[{step!r}]" for step in path)


def _check_key(key: object, what: str, path: list[str | int]) -> None:
    if not isinstance(key, str):
        raise InvalidInteractionError(
            f"{what}{_where(path)}: keys must be strings, not {type(key).__name__}"
        )
    if _surrogate_at(key) >= 0:
        raise InvalidInteractionError(f"{what}{_where(path)}: key {key!a} has a lone surrogate")


def _scalar_problem(value: object) -> str | None:
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, str):
        if _surrogate_at(value) >= 0:
            return "the text has a lone surrogate, which UTF-8 cannot hold"
        return None
    return f"{type(value).__name__} is not JSON-serializable"


def check_json_object(value: object, what: str) -> dict[str, Any]:
    """``value`` as a dict if it is acceptable metadata or attributes (see the module text).

    ``None`` and an empty mapping give ``{}``. The walk uses no recursion, so a value nested
    far too deep is refused with a message, never a ``RecursionError``.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInteractionError(f"{what} must be a dict, not {type(value).__name__}")
    data = dict(value)
    if not data:
        return data
    # (a dict or a list, its path, its depth); the object itself is at depth 1
    pending: list[tuple[dict[Any, Any] | list[Any] | tuple[Any, ...], list[str | int], int]] = [
        (data, [], 1)
    ]
    while pending:
        container, path, depth = pending.pop()
        entries: Iterable[tuple[Any, Any]]
        if isinstance(container, dict):
            for key in container:
                _check_key(key, what, path)
            entries = container.items()
        else:
            entries = enumerate(container)
        for key, item in entries:
            if isinstance(item, (Mapping, list, tuple)):
                if depth >= MAX_DEPTH:
                    shown = _where([*path, key][:6])
                    raise InvalidInteractionError(
                        f"{what} is nested more than {MAX_DEPTH} levels deep (at {what}{shown}...)"
                    )
                inner = dict(item) if isinstance(item, Mapping) else item
                pending.append((inner, [*path, key], depth + 1))
            else:
                problem = _scalar_problem(item)
                if problem is not None:
                    raise InvalidInteractionError(f"{what}{_where([*path, key])}: {problem}")
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:  # an integer too long to print, a changed value
        raise InvalidInteractionError(f"{what} is not JSON-serializable: {exc}") from None
    size = len(text.encode("utf-8"))
    if size > MAX_JSON_BYTES:
        raise InvalidInteractionError(
            f"{what} takes {size} bytes as JSON, more than the {MAX_JSON_BYTES} allowed"
        )
    return data


def check_timestamp(value: object, what: str = "timestamp") -> datetime:
    """``value`` if it is an aware datetime that UTC can express (years 1 to 9999)."""
    if not isinstance(value, datetime):
        raise InvalidInteractionError(f"{what} must be a datetime, not {type(value).__name__}")
    moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    try:
        moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise InvalidInteractionError(
            f"{what} {value.isoformat()} is outside the years 1 to 9999 in UTC"
        ) from None
    return value


def check_vectors(vectors: Any, what: str = "the vectors") -> None:
    """Refuse vectors holding NaN or infinity (``InvalidInteractionError``), rows checked in
    blocks so a large matrix needs little extra memory."""
    block = np.asarray(vectors)
    if not block.size or block.dtype.kind not in "fc":
        return
    rows = block.reshape(block.shape[0], -1) if block.ndim > 1 else block.reshape(1, -1)
    for start in range(0, rows.shape[0], _CHECK_ROWS):
        finite = np.isfinite(rows[start : start + _CHECK_ROWS]).all(axis=1)
        if not finite.all():
            row = start + int(np.flatnonzero(~finite)[0])
            raise InvalidInteractionError(
                f"{what} hold NaN or infinite values (row {row}); nothing was written"
            )


#: The records checked already by the write under way in this context (see
#: :func:`_checked_records`), each under its ``id()`` and held, so no other object takes it.
_CHECKED: ContextVar[dict[int, Interaction] | None] = ContextVar("_checked", default=None)


@contextmanager
def _checked_records(items: Sequence[Interaction]) -> Iterator[None]:
    """While the block runs, :func:`check_records` takes these very objects as checked.

    For a writer that made ``items`` itself with :func:`check_interaction`'s rules applied
    (``batch_add``), so a store does not check each one again; an equal record that is another
    object, or a record written from another thread or after the block, is checked as before.
    """
    token = _CHECKED.set({id(item): item for item in items})
    try:
        yield
    finally:
        _CHECKED.reset(token)


def check_records(interactions: Iterable[Interaction], vectors: Any = None) -> None:
    """What a store's ``add`` checks before it writes: every interaction and the vectors."""
    checked = _CHECKED.get()
    if checked is None:
        for item in interactions:
            check_interaction(item)
    else:
        for item in interactions:
            if checked.get(id(item)) is not item:
                check_interaction(item)
    if vectors is not None:
        check_vectors(vectors)


def check_interaction(item: Interaction) -> Interaction:
    """Apply every rule of this module to an interaction; returns it unchanged."""
    try:
        check_id(item.prompt_id, "prompt id")
        _check_response_parts(item)
        if item.response_id is not None:
            check_id(item.response_id, "response id")
        check_id(item.agent_id, "agent id")
        check_id(item.session_id, "session_id")
        check_text(item.prompt_text, "prompt text")
        if item.response_text is not None:
            check_text(item.response_text, "response text")
        if item.agent_name is not None:
            check_text(item.agent_name, "agent name")
        check_timestamp(item.timestamp)
        if item.expires_at is not None:
            check_timestamp(item.expires_at, "expires_at")
        check_json_object(item.metadata, "metadata")
        check_json_object(item.prompt_attrs, "prompt attributes")
        check_json_object(item.response_attrs, "response attributes")
        check_json_object(item.agent_attrs, "agent attributes")
    except InvalidInteractionError as exc:
        if id_problem(item.prompt_id) is not None:
            raise
        raise InvalidInteractionError(f"prompt {item.prompt_id!r}: {exc}") from None
    return item


def _check_response_parts(item: Interaction) -> None:
    """A response is all there (id and text) or not at all (no id, no text, no attributes)."""
    if (item.response_id is None) != (item.response_text is None):
        missing = "id" if item.response_id is None else "text"
        raise InvalidInteractionError(
            f"the response has no {missing}: give both its id and text, or neither"
        )
    if item.response_id is None and item.response_attrs:
        raise InvalidInteractionError("response attributes were given without a response")
