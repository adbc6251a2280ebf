"""Turns the caller's dicts into validated :class:`Interaction` records.

``MemoryGraph.add_interaction`` and ``batch_add`` apply exactly these checks; tools that read
input from elsewhere (files, queues) can use them to reject a bad record before writing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from raeburnmemory.core.errors import ConfigurationError, InvalidInteractionError
from raeburnmemory.core.graph import check_extra_keys
from raeburnmemory.core.model import Interaction, parse_timestamp

__all__ = ["interaction_from_mapping", "make_interaction"]

_BATCH_KEYS = frozenset({"prompt", "response", "agent", "session_id", "metadata", "timestamp"})


def _text_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInteractionError(f"{what} must be a non-empty string, not {value!r}")
    return value


def _json_dict(value: Any, what: str) -> dict[str, Any]:
    if value is None or (isinstance(value, dict) and not value):
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInteractionError(f"{what} must be a dict, not {type(value).__name__}")
    data = dict(value)
    if not all(isinstance(key, str) for key in data):
        raise InvalidInteractionError(f"{what} keys must be strings")
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInteractionError(f"{what} is not JSON-serializable: {exc}") from None
    return data


def _node(value: Any, kind: str, main: str) -> tuple[str, Any, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise InvalidInteractionError(
            f"{kind} must be a dict with 'id' and '{main}' keys, not {type(value).__name__}"
        )
    ident = _text_id(value.get("id"), f"{kind} id")
    extra: dict[str, Any] = {}
    if value.keys() - {"id", main}:
        rest = {k: v for k, v in value.items() if k not in ("id", main)}
        extra = _json_dict(rest, f"{kind} attributes")
        check_extra_keys(kind, extra)
    return ident, value.get(main), extra


def make_interaction(
    prompt: Mapping[str, Any],
    response: Mapping[str, Any],
    agent: Mapping[str, Any],
    session_id: str,
    *,
    metadata: Mapping[str, Any] | None = None,
    timestamp: Any = None,
) -> Interaction:
    """Validate ``add_interaction``'s arguments and build the record.

    Raises ``InvalidInteractionError`` naming the field that is wrong.
    """
    prompt_id, prompt_text, prompt_attrs = _node(prompt, "prompt", "text")
    response_id, response_text, response_attrs = _node(response, "response", "text")
    agent_id, agent_name, agent_attrs = _node(agent, "agent", "name")
    for value, what in ((prompt_text, "prompt text"), (response_text, "response text")):
        if not isinstance(value, str):
            raise InvalidInteractionError(f"{what} must be a string, not {type(value).__name__}")
    if not prompt_text.strip():
        raise InvalidInteractionError("prompt text is empty: give the words of the prompt")
    if agent_name is not None and not isinstance(agent_name, str):
        raise InvalidInteractionError("agent name must be a string")
    try:
        moment = parse_timestamp(timestamp)
    except ConfigurationError as exc:
        raise InvalidInteractionError(str(exc)) from None
    return Interaction(
        prompt_id=prompt_id,
        prompt_text=prompt_text,
        response_id=response_id,
        response_text=response_text,
        agent_id=agent_id,
        agent_name=agent_name,
        session_id=_text_id(session_id, "session_id"),
        timestamp=moment,
        metadata=_json_dict(metadata, "metadata"),
        prompt_attrs=prompt_attrs,
        response_attrs=response_attrs,
        agent_attrs=agent_attrs,
    )


def interaction_from_mapping(item: Mapping[str, Any] | Interaction, position: int) -> Interaction:
    """One ``batch_add`` item: an ``Interaction``, or a dict of ``add_interaction``'s arguments.

    ``position`` is the item's place in its batch, named in the error when the item is invalid.
    """
    if isinstance(item, Interaction):
        return item
    if not isinstance(item, Mapping):
        raise InvalidInteractionError(f"item {position} must be a dict, not {type(item).__name__}")
    unknown = sorted(set(item) - _BATCH_KEYS)
    missing = sorted({"prompt", "response", "agent", "session_id"} - set(item))
    if unknown or missing:
        parts = [f"unknown keys {', '.join(unknown)}"] if unknown else []
        parts += [f"missing keys {', '.join(missing)}"] if missing else []
        raise InvalidInteractionError(f"item {position}: {'; '.join(parts)}")
    try:
        return make_interaction(
            item["prompt"],
            item["response"],
            item["agent"],
            item["session_id"],
            metadata=item.get("metadata"),
            timestamp=item.get("timestamp"),
        )
    except InvalidInteractionError as exc:
        raise InvalidInteractionError(f"item {position}: {exc}") from None
