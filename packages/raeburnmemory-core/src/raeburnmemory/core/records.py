"""Turns the caller's dicts into validated :class:`Interaction` records.

``MemoryGraph.add_interaction`` and ``batch_add`` apply exactly these checks; tools that read
input from elsewhere (files, queues) can use them to reject a bad record before writing anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from raeburnmemory.core.errors import ConfigurationError, InvalidInteractionError
from raeburnmemory.core.ids import new_id
from raeburnmemory.core.layout import check_extra_keys
from raeburnmemory.core.limits import check_id, check_interaction, check_json_object, check_text
from raeburnmemory.core.model import Interaction, parse_timestamp

__all__ = [
    "DEFAULT_AGENT_ID",
    "DEFAULT_SESSION_ID",
    "ON_CONFLICT",
    "UNCHANGED",
    "check_on_conflict",
    "interaction_from_mapping",
    "make_interaction",
    "updated_interaction",
]

#: The agent an interaction recorded without one is filed under.
DEFAULT_AGENT_ID = "default"
#: The session an interaction recorded without one belongs to.
DEFAULT_SESSION_ID = "default"

#: What a write may do with an item whose prompt id is stored with other content: refuse the
#: whole write (``"error"``), leave the item out (``"skip"``) or replace what is stored
#: (``"replace"``).
ON_CONFLICT = ("error", "skip", "replace")

_BATCH_KEYS = frozenset(
    {"prompt", "response", "agent", "session_id", "metadata", "timestamp", "expires_at"}
)


def _node(
    value: Any, kind: str, main: str, default_id: str | None = None
) -> tuple[str, Any, dict[str, Any]]:
    """The id, main field and extra attributes of a node given as a string or a dict.

    A string is the node's ``main`` field (an agent's is its id); a dict without ``id`` gets
    ``default_id``, or a generated id when there is none.
    """
    if isinstance(value, str):
        value = {"id": value} if kind == "agent" else {main: value}
    elif not isinstance(value, dict) and not isinstance(value, Mapping):  # a dict: one quick test
        raise InvalidInteractionError(
            f"{kind} must be a string or a dict with a '{main}' key, not {type(value).__name__}"
        )
    given = value.get("id")
    if given is None:
        given = new_id() if default_id is None else default_id
    ident = check_id(given, f"{kind} id")
    extra: dict[str, Any] = {}
    if len(value) > ("id" in value) + (main in value):  # keys other than these two
        rest = {k: v for k, v in value.items() if k not in ("id", main)}
        extra = check_json_object(rest, f"{kind} attributes")
        check_extra_keys(kind, extra)
    return ident, value.get(main), extra


def make_interaction(
    prompt: str | Mapping[str, Any],
    response: str | Mapping[str, Any] | None = None,
    agent: str | Mapping[str, Any] | None = None,
    session_id: str | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
    timestamp: Any = None,
    expires_at: Any = None,
) -> Interaction:
    """Validate ``add_interaction``'s arguments and build the record.

    ``prompt`` and ``response`` are their text or a dict with ``text`` (and ``id``, generated
    by :func:`~raeburnmemory.core.ids.new_id` when missing); ``response=None`` records the
    prompt on its own, with no response; ``agent`` is its id or a dict
    (default :data:`DEFAULT_AGENT_ID`), ``session_id`` defaults to :data:`DEFAULT_SESSION_ID`.
    ``expires_at`` (datetime, ISO text or POSIX seconds, or ``None`` for never) is when the
    interaction stops being returned by reads.
    Raises ``InvalidInteractionError`` naming the field that is wrong; the rules are those of
    :mod:`raeburnmemory.core.limits`.
    """
    prompt_id, prompt_text, prompt_attrs = _node(prompt, "prompt", "text")
    response_id: str | None = None
    response_text: Any = None
    response_attrs: dict[str, Any] = {}
    if response is not None:
        response_id, response_text, response_attrs = _node(response, "response", "text")
    agent_id, agent_name, agent_attrs = _node(
        {} if agent is None else agent, "agent", "name", DEFAULT_AGENT_ID
    )
    if session_id is None:
        session_id = DEFAULT_SESSION_ID
    texts = [(prompt_text, "prompt text")]
    if response is not None:
        texts.append((response_text, "response text"))
    for value, what in texts:
        if not isinstance(value, str):
            raise InvalidInteractionError(f"{what} must be a string, not {type(value).__name__}")
    if not prompt_text.strip():
        raise InvalidInteractionError("prompt text is empty: give the words of the prompt")
    if agent_name is not None and not isinstance(agent_name, str):
        raise InvalidInteractionError("agent name must be a string")
    try:
        moment = parse_timestamp(timestamp)
        expiry = None if expires_at is None else parse_timestamp(expires_at, name="expires_at")
    except ConfigurationError as exc:
        raise InvalidInteractionError(str(exc)) from None
    return Interaction(
        prompt_id=prompt_id,
        prompt_text=check_text(prompt_text, "prompt text"),
        response_id=response_id,
        response_text=None if response is None else check_text(response_text, "response text"),
        agent_id=agent_id,
        agent_name=None if agent_name is None else check_text(agent_name, "agent name"),
        session_id=check_id(session_id, "session_id"),
        timestamp=moment,
        metadata=check_json_object(metadata, "metadata"),
        prompt_attrs=prompt_attrs,
        response_attrs=response_attrs,
        agent_attrs=agent_attrs,
        expires_at=expiry,
    )


def interaction_from_mapping(item: Mapping[str, Any] | Interaction, position: int) -> Interaction:
    """One ``batch_add`` item: an ``Interaction``, or a dict of ``add_interaction``'s arguments.

    ``position`` is the item's place in its batch, named in the error when the item is invalid.
    """
    if isinstance(item, Interaction):
        try:
            return check_interaction(item)
        except InvalidInteractionError as exc:
            raise InvalidInteractionError(f"item {position}: {exc}") from None
    if not isinstance(item, dict) and not isinstance(item, Mapping):  # a dict: one quick test
        raise InvalidInteractionError(f"item {position} must be a dict, not {type(item).__name__}")
    if "prompt" not in item or not _BATCH_KEYS.issuperset(item):
        unknown = sorted(set(item) - _BATCH_KEYS)
        missing = sorted({"prompt"} - set(item))
        parts = [f"unknown keys {', '.join(unknown)}"] if unknown else []
        parts += [f"missing keys {', '.join(missing)}"] if missing else []
        raise InvalidInteractionError(f"item {position}: {'; '.join(parts)}")
    try:
        return make_interaction(
            item["prompt"],
            item.get("response"),
            item.get("agent"),
            item.get("session_id"),
            metadata=item.get("metadata"),
            timestamp=item.get("timestamp"),
            expires_at=item.get("expires_at"),
        )
    except InvalidInteractionError as exc:
        raise InvalidInteractionError(f"item {position}: {exc}") from None


def check_on_conflict(value: Any) -> str:
    """``value`` if it is one of :data:`ON_CONFLICT`, else ``ConfigurationError`` naming them."""
    if not isinstance(value, str) or value not in ON_CONFLICT:
        raise ConfigurationError(
            f"on_conflict must be one of {', '.join(map(repr, ON_CONFLICT))}, not {value!r}"
        )
    return value


#: Stands for a part :func:`updated_interaction` leaves as it is.
UNCHANGED: Any = object()


def updated_interaction(
    stored: Interaction,
    *,
    response: Any = UNCHANGED,
    metadata: Any = UNCHANGED,
    prompt_text: Any = UNCHANGED,
) -> Interaction:
    """``stored`` with the parts ``update_interaction`` was given changed, checked as
    :func:`make_interaction` checks them.

    ``response`` and ``prompt_text`` are a text or a dict with ``text`` (a response dict may
    give a new ``id``; other keys replace the node's extra attributes); ``metadata`` replaces
    the metadata. Parts not given keep their stored value. A response given to a prompt stored
    without one gets the dict's ``id``, or a generated one.
    """
    prompt = _changed_node(
        "prompt_text", prompt_text, stored.prompt_id, stored.prompt_text, stored.prompt_attrs
    )
    prompt["id"] = stored.prompt_id  # a prompt keeps its id
    answer: dict[str, Any] | None = None
    if stored.has_response or response is not UNCHANGED:
        answer = _changed_node(
            "response", response, stored.response_id, stored.response_text, stored.response_attrs
        )
    agent = {**stored.agent_attrs, "id": stored.agent_id, "name": stored.agent_name}
    item = make_interaction(
        prompt,
        answer,
        agent,
        stored.session_id,
        metadata=stored.metadata if metadata is UNCHANGED else metadata,
        timestamp=stored.timestamp,
        expires_at=stored.expires_at,
    )
    return dataclasses.replace(item, agent_name=stored.agent_name)


def _changed_node(
    what: str, given: Any, ident: str | None, text: str | None, attrs: Mapping[str, Any]
) -> dict[str, Any]:
    """A prompt or response node as stored, or as ``given`` (a text or a dict with ``text``,
    whose other keys, when it has any, replace the extra attributes)."""
    if given is UNCHANGED:
        return {**attrs, "id": ident, "text": text}
    node = {"text": given} if isinstance(given, str) else given
    if not isinstance(node, Mapping):
        raise InvalidInteractionError(f"{what} must be a string or a dict with 'text'")
    extra = node if node.keys() - {"id", "text"} else attrs
    return {**extra, "id": node.get("id", ident), "text": node.get("text")}
