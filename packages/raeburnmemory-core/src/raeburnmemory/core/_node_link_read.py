"""Reading back the node-link JSON that ``MemoryGraph.export`` writes: interactions and links.

The file holds no vectors, and each agent only its latest name; everything else comes back:
ids, texts, sessions, timestamps, metadata, extra attributes and caller-made links.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.jsonl import ExportFormatError
from raeburnmemory.core.layout import AGENT_FIELDS, PROMPT_FIELDS, RESPONSE_FIELDS
from raeburnmemory.core.model import RELATIONS, Interaction, Link
from raeburnmemory.core.records import make_interaction

__all__ = ["NodeLinkFormatError", "read_node_link"]


class NodeLinkFormatError(ExportFormatError):
    """A node-link JSON file cannot be read back as a memory; the message names the file."""


def _extra(node: Mapping[str, Any], reserved: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key not in reserved}


def _by_key(nodes: list[Any], kind: str) -> dict[str, Mapping[str, Any]]:
    return {
        node["key"]: node
        for node in nodes
        if isinstance(node, Mapping)
        and node.get("kind") == kind
        and isinstance(node.get("key"), str)
    }


def _interaction(
    node: Mapping[str, Any],
    responses: Mapping[str, Mapping[str, Any]],
    agents: Mapping[str, Mapping[str, Any]],
) -> Interaction:
    answer: dict[str, Any] | None = None
    if node.get("response_id") is not None:
        response = responses.get(node.get("response_id"))  # type: ignore[arg-type]
        if response is None:
            raise InvalidInteractionError(f"no response node {node.get('response_id')!r}")
        answer = {
            **_extra(response, RESPONSE_FIELDS),
            "id": response.get("key"),
            "text": response.get("text"),
        }
    agent = agents.get(node.get("agent_id"))  # type: ignore[arg-type]
    if agent is None:
        raise InvalidInteractionError(f"no agent node {node.get('agent_id')!r}")
    return make_interaction(
        {**_extra(node, PROMPT_FIELDS), "id": node.get("key"), "text": node.get("text")},
        answer,
        {**_extra(agent, AGENT_FIELDS), "id": agent.get("key"), "name": agent.get("name")},
        node.get("session_id"),
        metadata=node.get("metadata"),
        timestamp=node.get("timestamp"),
        expires_at=node.get("expires_at"),
    )


def _links(path: Path, edges: list[Any]) -> list[Link]:
    links = []
    for number, edge in enumerate(edges, start=1):
        if not isinstance(edge, Mapping):
            raise NodeLinkFormatError(f"{path}: edge {number} is not an object")
        relation = edge.get("relation")
        source, target = edge.get("source"), edge.get("target")
        if relation in RELATIONS or not isinstance(relation, str):
            continue
        if not (isinstance(source, str) and isinstance(target, str)):
            raise NodeLinkFormatError(f"{path}: edge {number} has no source and target names")
        if source.startswith("prompt:") and target.startswith("prompt:"):
            links.append(
                Link(source.removeprefix("prompt:"), target.removeprefix("prompt:"), relation)
            )
    return links


def read_node_link(path: Path, data: Any = None) -> tuple[list[Interaction], list[Link]]:
    """The interactions (in the file's order) and caller-made links of a node-link JSON file.

    ``data`` is the file's parsed JSON when the caller has it already. Raises
    :class:`NodeLinkFormatError` naming the file and the node or edge at fault.
    """
    if data is None:
        try:
            with path.open("rb") as stream:
                data = json.load(stream)
        except ValueError as exc:
            raise NodeLinkFormatError(f"{path}: not valid JSON ({exc})") from None
    nodes, edges = (
        data.get(key) if isinstance(data, Mapping) else None for key in ("nodes", "edges")
    )
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise NodeLinkFormatError(f"{path}: not node-link JSON (no 'nodes' and 'edges' lists)")
    responses, agents = _by_key(nodes, "response"), _by_key(nodes, "agent")
    items = []
    for number, node in enumerate(nodes, start=1):
        if not isinstance(node, Mapping) or node.get("kind") != "prompt":
            continue
        try:
            items.append(_interaction(node, responses, agents))
        except InvalidInteractionError as exc:
            raise NodeLinkFormatError(
                f"{path}: node {number} ({node.get('id')!r}): {exc}"
            ) from None
    return items, _links(path, edges)
