"""Reading interactions from JSON Lines, one interaction an object a line.

Two shapes are read. The nested one is what ``MemoryGraph.batch_add`` takes::

    {"prompt": {"id": "p1", "text": "Hello?"}, "response": {"id": "r1", "text": "Hi!"},
     "agent": {"id": "a1", "name": "Greeter"}, "session_id": "s1",
     "metadata": {}, "timestamp": "2025-01-06T09:00:00Z"}

The flat one is what ``raeburnmemory show --json`` prints (``Interaction.to_dict()``)::

    {"prompt_id": "p1", "prompt_text": "Hello?", "response_id": "r1", "response_text": "Hi!",
     "agent_id": "a1", "agent_name": "Greeter", "session_id": "s1", "timestamp": "..."}

The JSON Lines export (``export --format jsonl``) starts with a header line; it is read by
:func:`raeburnmemory.core.importing.import_file` instead.

Blank lines are skipped. A line is checked as ``add_interaction`` checks its arguments, and one
that is not acceptable raises :class:`LineError`, whose message says what is wrong with it; the
caller adds the line number. A line without a timestamp is stamped with the time it is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.jsonl import FORMAT_NAME
from raeburnmemory.core.model import Interaction

# The same validation MemoryGraph.add_interaction and batch_add apply.
from raeburnmemory.core.records import interaction_from_mapping

__all__ = ["LineError", "iter_lines", "parse_line"]

_FLAT_REQUIRED = (
    "prompt_id",
    "prompt_text",
    "response_id",
    "response_text",
    "agent_id",
    "session_id",
)
_FLAT_KEYS = frozenset(_FLAT_REQUIRED) | {
    "agent_name",
    "metadata",
    "timestamp",
    "prompt_attrs",
    "response_attrs",
    "agent_attrs",
}


class LineError(ValueError):
    """A line of the file is not an interaction."""


def iter_lines(stream: IO[bytes]) -> Iterator[tuple[int, int, str | None]]:
    """``(line number, size in bytes, text)`` for every line; text is ``None`` when not UTF-8."""
    for number, raw in enumerate(stream, start=1):
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        yield number, len(raw), text


def _check_keys(record: Mapping[str, Any]) -> None:
    unknown = sorted(set(record) - _FLAT_KEYS)
    missing = [key for key in _FLAT_REQUIRED if key not in record]
    parts = [f"unknown key(s) {', '.join(map(repr, unknown))}"] if unknown else []
    parts += [f"missing key(s) {', '.join(map(repr, missing))}"] if missing else []
    if parts:
        raise LineError("; ".join(parts))


def _attrs(record: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key) or {}
    if not isinstance(value, Mapping):
        raise LineError(f"{key!r} must be an object, not {type(value).__name__}")
    return dict(value)


def _flat(record: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(record)
    agent = {**_attrs(record, "agent_attrs"), "id": record["agent_id"]}
    if record.get("agent_name") is not None:
        agent["name"] = record["agent_name"]
    prompt = {
        **_attrs(record, "prompt_attrs"),
        "id": record["prompt_id"],
        "text": record["prompt_text"],
    }
    response = {
        **_attrs(record, "response_attrs"),
        "id": record["response_id"],
        "text": record["response_text"],
    }
    nested = {
        "prompt": prompt,
        "response": response,
        "agent": agent,
        "session_id": record["session_id"],
    }
    nested.update((key, record[key]) for key in ("metadata", "timestamp") if key in record)
    return nested


def parse_line(text: str) -> Interaction | None:
    """The interaction a line holds, or ``None`` for a blank line (:class:`LineError`)."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        record = json.loads(stripped)
    except ValueError as exc:
        raise LineError(f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise LineError(f"expected a JSON object, found {type(record).__name__}")
    if record.get("format") == FORMAT_NAME:
        raise LineError(
            "the header of a JSON Lines export: give the file's path to import it (an export "
            "is not read from standard input)"
        )
    if "prompt_id" in record:
        record = _flat(record)
    elif not set(record) & {"prompt", "response", "agent", "session_id"}:
        raise LineError(
            "expected an interaction with 'prompt', 'response', 'agent' and 'session_id'"
        )
    try:
        return interaction_from_mapping(record, 0)
    except InvalidInteractionError as exc:
        raise LineError(str(exc).removeprefix("item 0: ")) from None
