"""The node and edge layout of the memory graph: the one place that says what a node holds.

Every interaction is a prompt node and a response node (none for a prompt recorded without a
response, whose ``response_id`` is ``None``); agents and sessions are nodes of their own. Node
keys are ``"<kind>:<id>"`` because ids are unique per kind only. Edges carry a
``relation``: ``responded_with``, ``generated_by``, ``belongs_to``, ``followed_by`` (session
order) or a caller's. The builders take plain fields, so a store can lay out the nodes it keeps
without building :class:`~raeburnmemory.core.model.Interaction` objects; the key order of each
dict is part of the stored format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from typing import Any

from raeburnmemory.core.errors import InvalidInteractionError

__all__ = [
    "AGENT_FIELDS",
    "PROMPT_FIELDS",
    "RESPONSE_FIELDS",
    "agent_fields",
    "agent_node",
    "check_extra_keys",
    "interaction_edges",
    "link_edge",
    "node_key",
    "prompt_node",
    "response_node",
    "session_edges",
    "session_node",
]

#: Attribute names a prompt node uses itself; extra prompt keys may not take them.
PROMPT_FIELDS = frozenset(
    {
        "id",
        "kind",
        "key",
        "text",
        "timestamp",
        "metadata",
        "session_id",
        "response_id",
        "agent_id",
        "expires_at",
    }
)
#: Attribute names a response node uses itself.
RESPONSE_FIELDS = frozenset({"id", "kind", "key", "text", "prompt_id"})
#: Attribute names an agent node uses itself.
AGENT_FIELDS = frozenset({"id", "kind", "key", "name"})

_RESERVED = {"prompt": PROMPT_FIELDS, "response": RESPONSE_FIELDS, "agent": AGENT_FIELDS}


def node_key(kind: str, ident: str) -> str:
    """The graph key of a node: ``"prompt:p1"``."""
    return f"{kind}:{ident}"


def check_extra_keys(kind: str, extra: Mapping[str, Any]) -> None:
    """Refuse extra attributes that would overwrite the ones the graph uses itself."""
    clash = sorted(set(extra) & _RESERVED[kind])
    if clash:
        raise InvalidInteractionError(
            f"{kind} attribute(s) {', '.join(clash)} are reserved by the graph; rename them "
            "or put them in metadata"
        )


def _node(
    kind: str, key: str, text: str, attrs: Mapping[str, Any], fields: dict[str, Any]
) -> dict[str, Any]:
    """A prompt or response node: extra attributes, then id, kind, key, text and ``fields``."""
    return {**attrs, "id": kind + ":" + key, "kind": kind, "key": key, "text": text, **fields}


def prompt_node(
    prompt_id: str,
    text: str,
    timestamp: str,
    metadata: Mapping[str, Any],
    session_id: str,
    response_id: str | None,
    agent_id: str,
    attrs: Mapping[str, Any],
    expires_at: str | None = None,
) -> dict[str, Any]:
    """A prompt node: its extra attributes first, then the graph's own fields (``expires_at``
    last, and only when the interaction expires)."""
    fields = {
        "timestamp": timestamp,
        "metadata": metadata,
        "session_id": session_id,
        "response_id": response_id,
        "agent_id": agent_id,
    }
    if expires_at is not None:
        fields["expires_at"] = expires_at
    return _node("prompt", prompt_id, text, attrs, fields)


def response_node(
    response_id: str, text: str, prompt_id: str, attrs: Mapping[str, Any]
) -> dict[str, Any]:
    """A response node: its extra attributes first, then the graph's own fields."""
    return _node("response", response_id, text, attrs, {"prompt_id": prompt_id})


def agent_node(agent_id: str, name: str | None, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """An agent node (as its latest interaction names it)."""
    return {**attrs, "id": "agent:" + agent_id, "kind": "agent", "key": agent_id, "name": name}


def session_node(session_id: str) -> dict[str, Any]:
    """A session node."""
    return {"id": "session:" + session_id, "kind": "session", "key": session_id}


def agent_fields(node: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The name and extra attributes of an agent node."""
    return node.get("name"), {k: v for k, v in node.items() if k not in AGENT_FIELDS}


def _edge(source: str, target: str, relation: str) -> dict[str, Any]:
    return {"source": source, "target": target, "relation": relation}


def interaction_edges(
    prompt_id: str, response_id: str | None, agent_id: str, session_id: str
) -> tuple[dict[str, Any], ...]:
    """The edges of an interaction: prompt to response, response to agent, prompt to session.

    A prompt without a response has only its ``belongs_to`` edge.
    """
    prompt = "prompt:" + prompt_id
    in_session = _edge(prompt, "session:" + session_id, "belongs_to")
    if response_id is None:
        return (in_session,)
    response = "response:" + response_id
    return (
        _edge(prompt, response, "responded_with"),
        _edge(response, "agent:" + agent_id, "generated_by"),
        in_session,
    )


def session_edges(ordered_prompt_ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The ``followed_by`` edges between a session's prompts, given in session order."""
    for earlier, later in pairwise(ordered_prompt_ids):
        yield _edge("prompt:" + earlier, "prompt:" + later, "followed_by")


def link_edge(source: str, target: str, relation: str) -> dict[str, Any]:
    """The edge of a caller-made link between two prompts."""
    return _edge("prompt:" + source, "prompt:" + target, relation)
