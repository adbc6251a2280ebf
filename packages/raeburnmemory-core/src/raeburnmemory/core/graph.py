"""The graph view of a memory: node-link JSON, networkx graphs and a small built-in stand-in.

Node keys are ``"<kind>:<id>"`` (``"prompt:p1"``, ``"session:s1"``) because ids are unique per
kind only. Every node has ``kind`` and ``key`` (the caller's id) attributes. Edges carry a
``relation``: ``responded_with``, ``generated_by``, ``belongs_to``, ``followed_by`` or a caller's.
:mod:`raeburnmemory.core.layout` defines each node and edge; this module puts them together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from raeburnmemory.core import layout
from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.json_text import dumps
from raeburnmemory.core.layout import PROMPT_FIELDS, node_key
from raeburnmemory.core.model import Interaction, Link

__all__ = [
    "PROMPT_FIELDS",
    "SimpleDiGraph",
    "build_graph",
    "iter_node_link_json",
    "node_key",
    "node_link_data",
    "to_networkx",
]


def _ordered_sessions(
    interactions: Iterable[Interaction],
) -> tuple[list[Interaction], dict[str, list[Interaction]]]:
    items = list(interactions)
    sessions: dict[str, list[Interaction]] = {}
    for item in items:
        sessions.setdefault(item.session_id, []).append(item)
    for members in sessions.values():
        members.sort(key=lambda it: it.timestamp)  # stable: insertion order breaks ties
    return items, sessions


def _interaction_nodes(item: Interaction) -> tuple[dict[str, Any], ...]:
    prompt = layout.prompt_node(
        item.prompt_id,
        item.prompt_text,
        item.timestamp.isoformat(),
        dict(item.metadata),
        item.session_id,
        item.response_id,
        item.agent_id,
        item.prompt_attrs,
        None if item.expires_at is None else item.expires_at.isoformat(),
    )
    if item.response_id is None or item.response_text is None:
        return (prompt,)
    response = layout.response_node(
        item.response_id, item.response_text, item.prompt_id, item.response_attrs
    )
    return prompt, response


def _iter_parts(
    interactions: Iterable[Interaction], links: Iterable[Link]
) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    items, sessions = _ordered_sessions(interactions)
    known_agents: dict[str, tuple[str | None, Mapping[str, Any]]] = {}
    for item in items:  # the latest name and attributes given win; leaving them out erases nothing
        name, attrs = known_agents.get(item.agent_id, (None, {}))
        known_agents[item.agent_id] = (
            name if item.agent_name is None else item.agent_name,
            item.agent_attrs or attrs,
        )
    agents = {aid: layout.agent_node(aid, *known) for aid, known in known_agents.items()}
    known = {item.prompt_id for item in items}
    link_list = [link for link in links if link.source in known and link.target in known]

    def nodes() -> Iterator[dict[str, Any]]:
        for item in items:
            yield from _interaction_nodes(item)
        yield from agents.values()
        for session_id in sessions:
            yield layout.session_node(session_id)

    def edges() -> Iterator[dict[str, Any]]:
        for item in items:
            yield from layout.interaction_edges(
                item.prompt_id, item.response_id, item.agent_id, item.session_id
            )
        for members in sessions.values():
            yield from layout.session_edges(item.prompt_id for item in members)
        for link in link_list:
            yield layout.link_edge(link.source, link.target, link.relation)

    return nodes(), edges()


def node_link_data(
    interactions: Iterable[Interaction],
    links: Iterable[Link] = (),
    graph_attrs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The node-link JSON of the memory (the shape ``networkx.node_link_data`` gives)."""
    nodes, edges = _iter_parts(interactions, links)
    return {
        "directed": True,
        "multigraph": False,
        "graph": dict(graph_attrs or {}),
        "nodes": list(nodes),
        "edges": list(edges),
    }


def iter_node_link_json(
    interactions: Iterable[Interaction],
    links: Iterable[Link] = (),
    graph_attrs: Mapping[str, Any] | None = None,
    *,
    chunk_items: int = 500,
) -> Iterator[str]:
    """The same JSON as :func:`node_link_data`, produced in text chunks for streaming."""
    nodes, edges = _iter_parts(interactions, links)
    head = {"directed": True, "multigraph": False, "graph": dict(graph_attrs or {})}
    yield dumps(head)[:-1] + ', "nodes": ['
    for name, parts in (("nodes", nodes), ("edges", edges)):
        if name == "edges":
            yield '], "edges": ['
        buffer: list[str] = []
        first = True
        for part in parts:
            buffer.append(dumps(part))
            if len(buffer) >= chunk_items:
                yield ("" if first else ", ") + ", ".join(buffer)
                first = False
                buffer = []
        if buffer:
            yield ("" if first else ", ") + ", ".join(buffer)
    yield "]}"


class _NodeView:
    """``graph.nodes``: call it like networkx (``nodes(data=True)``) or index it by key."""

    def __init__(self, graph: SimpleDiGraph) -> None:
        self._graph = graph

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._graph._nodes[key]

    def __contains__(self, key: object) -> bool:
        return key in self._graph._nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph._nodes)

    def __len__(self) -> int:
        return len(self._graph._nodes)

    def __call__(self, data: bool = False) -> list[Any]:
        if data:
            return list(self._graph._nodes.items())
        return list(self._graph._nodes)


class _EdgeView:
    """``graph.edges``: call it like networkx (``edges(data=True)``) or index it by ``(u, v)``."""

    def __init__(self, graph: SimpleDiGraph) -> None:
        self._graph = graph

    def __getitem__(self, pair: tuple[str, str]) -> dict[str, Any]:
        source, target = pair
        return self._graph._succ[source][target]

    def __contains__(self, pair: object) -> bool:
        if not isinstance(pair, tuple) or len(pair) != 2:
            return False
        return pair[1] in self._graph._succ.get(pair[0], {})

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for source, targets in self._graph._succ.items():
            for target in targets:
                yield source, target

    def __len__(self) -> int:
        return sum(len(targets) for targets in self._graph._succ.values())

    def __call__(self, data: bool = False) -> list[Any]:
        if data:
            return [
                (source, target, attrs)
                for source, targets in self._graph._succ.items()
                for target, attrs in targets.items()
            ]
        return list(self)


class SimpleDiGraph:
    """A small directed graph with the subset of ``networkx.DiGraph`` the memory graph needs.

    Used for ``MemoryGraph.graph`` when networkx is not installed.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, Any]] = {}
        self._succ: dict[str, dict[str, dict[str, Any]]] = {}
        self._pred: dict[str, dict[str, dict[str, Any]]] = {}
        self.graph: dict[str, Any] = {}

    def add_node(self, key: str, /, **attrs: Any) -> None:
        """Add a node, or update its attributes."""
        if key not in self._nodes:
            self._nodes[key] = {}
            self._succ[key] = {}
            self._pred[key] = {}
        self._nodes[key].update(attrs)

    def add_edge(self, source: str, target: str, /, **attrs: Any) -> None:
        """Add an edge (and its nodes), or update its attributes."""
        for key in (source, target):
            if key not in self._nodes:
                self.add_node(key)
        edge = self._succ[source].setdefault(target, {})
        edge.update(attrs)
        self._pred[target][source] = edge

    @property
    def nodes(self) -> _NodeView:
        """The nodes, indexable by key and callable as ``nodes(data=True)``."""
        return _NodeView(self)

    @property
    def edges(self) -> _EdgeView:
        """The edges, indexable by ``(u, v)`` and callable as ``edges(data=True)``."""
        return _EdgeView(self)

    def has_node(self, key: str) -> bool:
        """Whether the node exists."""
        return key in self._nodes

    def has_edge(self, source: str, target: str) -> bool:
        """Whether the edge exists."""
        return target in self._succ.get(source, {})

    def successors(self, key: str) -> Iterator[str]:
        """Nodes an edge from ``key`` reaches."""
        return iter(self._succ[key])

    def predecessors(self, key: str) -> Iterator[str]:
        """Nodes with an edge to ``key``."""
        return iter(self._pred[key])

    def number_of_nodes(self) -> int:
        """How many nodes the graph has."""
        return len(self._nodes)

    def number_of_edges(self) -> int:
        """How many edges the graph has."""
        return len(self.edges)

    def __contains__(self, key: object) -> bool:
        return key in self._nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


def _fill(graph: Any, data: Mapping[str, Any]) -> Any:
    graph.graph.update(data.get("graph", {}))
    for node in data["nodes"]:
        attrs = {k: v for k, v in node.items() if k != "id"}
        graph.add_node(node["id"], **attrs)
    for edge in data["edges"]:
        attrs = {k: v for k, v in edge.items() if k not in ("source", "target")}
        graph.add_edge(edge["source"], edge["target"], **attrs)
    return graph


def to_networkx(data: Mapping[str, Any]) -> Any:
    """A real ``networkx.DiGraph`` of node-link data (needs networkx installed)."""
    try:
        import networkx as nx
    except ImportError:
        raise ConfigurationError(
            "to_networkx() needs networkx: pip install 'raeburnmemory-core[networkx]'"
        ) from None
    return _fill(nx.DiGraph(), data)


def build_graph(data: Mapping[str, Any]) -> Any:
    """A ``networkx.DiGraph`` of node-link data when networkx is installed, else a stand-in."""
    try:
        return to_networkx(data)
    except ConfigurationError:
        return _fill(SimpleDiGraph(), data)
