"""A JSON store compaction right after a large batch costs little more than the batch did."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from raeburnmemory.core.graph import iter_node_link_json
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.model import Interaction, Link

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _item(number: int, **fields: Any) -> Interaction:
    values: dict[str, Any] = {
        "prompt_id": f"p{number}",
        "prompt_text": f"question {number}",
        "response_id": f"r{number}",
        "response_text": f"answer {number}",
        "agent_id": "a",
        "session_id": "s",
        "timestamp": T0 + timedelta(seconds=number),
    }
    values.update(fields)
    return Interaction(**values)


def test_the_snapshot_is_byte_for_byte_the_graph_modules_json(tmp_path: Path) -> None:
    """Nodes and edges laid out from their fields are the text ``json.dumps`` gives, for
    escapes, non-ASCII text, metadata, expiry, a missing response and extra attributes."""
    items = [
        _item(0, prompt_text='é "quoted" \\ \n\t\x01 😀 \u2028', metadata={"k": [1, 2.5, None]}),
        _item(1, response_id=None, response_text=None, session_id='t"ü'),
        _item(2, timestamp=T0 - timedelta(days=1), expires_at=T0 + timedelta(days=9)),
        _item(3, prompt_attrs={"lang": "en"}),
        _item(4, response_attrs={"tokens": 3}, agent_id="b\u00e9", agent_name="Bé"),
        _item(5, prompt_id='p"5\\', response_id="r\u00e95", metadata={"ü": {"x": "y"}}),
    ]
    links = [Link("p0", 'p"5\\', 'ci"tes'), Link("p3", "p1")]
    path = tmp_path / "graph.json"
    with JsonStore.open(str(path)) as store:
        store.add(items[:3], None)
        store.compact()  # the next snapshot copies these nodes and lays out the others
        store.add(items[3:], None)
        for link in links:
            store.link(link)
        store.compact()
    data = path.read_bytes()
    attrs = json.loads(data)["graph"]
    assert data == "".join(iter_node_link_json(items, links, graph_attrs=attrs)).encode()
