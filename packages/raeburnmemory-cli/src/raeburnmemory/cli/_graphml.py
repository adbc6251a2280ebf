"""Writes node-link graph data as GraphML, with the standard library only.

Every node and edge attribute becomes a GraphML key of the type its values share (``boolean``,
``long``, ``double``, else ``string``). Objects and lists (``metadata``) are written as JSON text,
and missing values (``None``) are left out, so the file opens in networkx, Gephi or yEd.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["write_graphml"]

_NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
_SCHEMA = (
    "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
)
# Characters XML 1.0 cannot carry at all.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _text(value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return _FORBIDDEN.sub("\ufffd", text)


def _keys(items: Iterable[Mapping[str, Any]], skip: frozenset[str]) -> dict[str, str]:
    types: dict[str, str] = {}
    for item in items:
        for name, value in item.items():
            if name in skip or value is None:
                continue
            kind = _kind(value)
            previous = types.setdefault(name, kind)
            if previous != kind:
                numbers = {previous, kind} <= {"long", "double"}
                types[name] = "double" if numbers else "string"
    return types


def _declare(out: IO[str], domain: str, prefix: str, types: Mapping[str, str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for index, (name, kind) in enumerate(types.items()):
        ids[name] = f"{prefix}{index}"
        out.write(
            f'  <key id="{ids[name]}" for="{domain}" attr.name={quoteattr(_text(name))} '
            f'attr.type="{kind}"/>\n'
        )
    return ids


def _data(out: IO[str], item: Mapping[str, Any], ids: Mapping[str, str], indent: str) -> None:
    for name, key in ids.items():
        value = item.get(name)
        if value is not None:
            out.write(f'{indent}<data key="{key}">{escape(_text(value))}</data>\n')


def write_graphml(data: Mapping[str, Any], out: IO[str]) -> tuple[int, int]:
    """Write node-link ``data`` as GraphML to ``out``; returns ``(nodes, edges)`` written."""
    nodes: list[Mapping[str, Any]] = list(data.get("nodes", []))
    edges: list[Mapping[str, Any]] = list(data.get("edges", []))
    node_types = _keys(nodes, frozenset({"id"}))
    edge_types = _keys(edges, frozenset({"source", "target"}))
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(
        f'<graphml xmlns="{_NAMESPACE}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{_SCHEMA}">\n'
    )
    node_ids = _declare(out, "node", "n", node_types)
    edge_ids = _declare(out, "edge", "e", edge_types)
    kind = "directed" if data.get("directed", True) else "undirected"
    out.write(f'  <graph id="raeburnmemory" edgedefault="{kind}">\n')
    for node in nodes:
        out.write(f"    <node id={quoteattr(_text(node['id']))}>\n")
        _data(out, node, node_ids, "      ")
        out.write("    </node>\n")
    for edge in edges:
        source, target = quoteattr(_text(edge["source"])), quoteattr(_text(edge["target"]))
        out.write(f"    <edge source={source} target={target}>\n")
        _data(out, edge, edge_ids, "      ")
        out.write("    </edge>\n")
    out.write("  </graph>\n</graphml>\n")
    return len(nodes), len(edges)
