"""GraphML written with the standard library opens in networkx with every attribute."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from raeburnmemory.cli._graphml import write_graphml

NS = "{http://graphml.graphdrawing.org/xmlns}"


def sample() -> dict[str, Any]:
    return {
        "directed": True,
        "multigraph": False,
        "graph": {},
        "nodes": [
            {
                "id": "prompt:p1",
                "kind": "prompt",
                "text": 'Tabs\tand "quotes" & <tags>\nnew line \x01',
                "metadata": {"n": 1, "tags": ["a"]},
                "score": 1,
                "flag": True,
            },
            {"id": "prompt:p2", "kind": "prompt", "text": "two", "score": 2.5, "flag": False},
            {"id": "agent:a1", "kind": "agent", "name": None},
        ],
        "edges": [
            {"source": "prompt:p1", "target": "agent:a1", "relation": "generated_by"},
            {"source": "prompt:p1", "target": "prompt:p2", "relation": "followed_by"},
        ],
    }


def test_it_is_well_formed_xml_with_typed_keys() -> None:
    out = io.StringIO()
    assert write_graphml(sample(), out) == (3, 2)
    root = ET.fromstring(out.getvalue())
    keys = {key.get("attr.name"): key.get("attr.type") for key in root.iter(f"{NS}key")}
    assert keys["score"] == "double"  # long and double mixed
    assert keys["flag"] == "boolean"
    assert keys["metadata"] == "string"
    assert "name" not in keys  # only ever None
    graph = root.find(f"{NS}graph")
    assert graph is not None
    assert graph.get("edgedefault") == "directed"
    assert len(graph.findall(f"{NS}node")) == 3
    assert len(graph.findall(f"{NS}edge")) == 2


def test_networkx_reads_it_back() -> None:
    nx = pytest.importorskip("networkx")
    out = io.StringIO()
    write_graphml(sample(), out)
    graph = nx.read_graphml(io.BytesIO(out.getvalue().encode("utf-8")))
    assert set(graph.nodes) == {"prompt:p1", "prompt:p2", "agent:a1"}
    node = graph.nodes["prompt:p1"]
    assert node["text"] == 'Tabs\tand "quotes" & <tags>\nnew line \ufffd'
    assert node["metadata"] == '{"n": 1, "tags": ["a"]}'
    assert node["flag"] is True
    assert graph.nodes["prompt:p2"]["score"] == 2.5
    assert graph.edges["prompt:p1", "prompt:p2"]["relation"] == "followed_by"
    assert graph.is_directed()
