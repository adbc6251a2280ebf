"""The JSON store's snapshot (``graph.json``) and vector map (``graph.json.map.json``).

``graph.json`` is the node-link JSON of the whole graph. Its ``graph`` attributes carry what
the store needs besides the nodes: the format and version, the generation, the encoder, the
vectors file format, the caller-made links and, for interactions whose agent was named
differently from the agent's latest name, that name. The map lists the prompt id of each row of
the vectors file, with the generation and a CRC-32 of ``graph.json``; with the checksum
verified the derived edges need not be parsed, which halves the time to open a large store.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import chain, islice, pairwise
from pathlib import Path
from typing import Any

from raeburnmemory.core._json_state import GraphState, Record, agent_node_fields
from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.model import Link

__all__ = [
    "FORMAT",
    "VERSION",
    "MapFile",
    "read_map",
    "read_snapshot",
    "write_map",
    "write_snapshot",
]

FORMAT = "raeburnmemory"
VERSION = 1


def fsync_file(fh: Any) -> None:
    """Flush a file object to disk."""
    fh.flush()
    os.fsync(fh.fileno())


def agent_overrides(records: Iterable[Record]) -> dict[str, list[Any]]:
    """``{prompt id: [name, attrs]}`` where an interaction named its agent unlike the latest."""
    items = list(records)
    latest: dict[str, Record] = {}
    for record in items:
        latest[record.agent_id] = record
    found: dict[str, list[Any]] = {}
    for record in items:
        last = latest[record.agent_id]
        if record.agent_name != last.agent_name or record.agent_attrs != last.agent_attrs:
            found[record.prompt_id] = [record.agent_name, dict(record.agent_attrs)]
    return found


def _session_order(records: list[Record]) -> dict[str, list[Record]]:
    """Each session's records by timestamp, then insertion."""
    sessions: dict[str, list[tuple[float, int, Record]]] = {}
    for position, record in enumerate(records):
        moment = datetime.fromisoformat(record.stamp).timestamp()
        sessions.setdefault(record.session_id, []).append((moment, position, record))
    return {sid: [entry[2] for entry in sorted(rows)] for sid, rows in sessions.items()}


def _graph_nodes(records: list[Record], sessions: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The nodes as :func:`raeburnmemory.core.graph.node_link_data` lays them out."""
    latest: dict[str, Record] = {}
    for record in records:
        yield record.prompt
        yield record.response
        latest[record.agent_id] = record
    for agent_id, record in latest.items():
        yield {
            **record.agent_attrs,
            "id": f"agent:{agent_id}",
            "kind": "agent",
            "key": agent_id,
            "name": record.agent_name,
        }
    for session_id in sessions:
        yield {"id": f"session:{session_id}", "kind": "session", "key": session_id}


def _graph_edges(
    records: list[Record], sessions: Mapping[str, list[Record]], links: Iterable[Link]
) -> Iterator[dict[str, Any]]:
    """The edges as :func:`raeburnmemory.core.graph.node_link_data` lays them out."""
    for record in records:
        prompt, response = f"prompt:{record.prompt_id}", f"response:{record.response_id}"
        yield {"source": prompt, "target": response, "relation": "responded_with"}
        agent = f"agent:{record.agent_id}"
        yield {"source": response, "target": agent, "relation": "generated_by"}
        session = f"session:{record.session_id}"
        yield {"source": prompt, "target": session, "relation": "belongs_to"}
    for members in sessions.values():
        for earlier, later in pairwise(members):
            yield {
                "source": f"prompt:{earlier.prompt_id}",
                "target": f"prompt:{later.prompt_id}",
                "relation": "followed_by",
            }
    for link in links:
        yield {
            "source": f"prompt:{link.source}",
            "target": f"prompt:{link.target}",
            "relation": link.relation,
        }


def _json_chunks(parts: Iterator[dict[str, Any]], size: int = 4096) -> Iterator[str]:
    """``parts`` as the comma-separated inside of a JSON array, a few thousand at a time."""
    first = True
    while True:
        batch = list(islice(parts, size))
        if not batch:
            return
        text = json.dumps(batch)[1:-1]
        yield text if first else ", " + text
        first = False


def write_snapshot(path: Path, state: GraphState, attrs: Mapping[str, Any]) -> tuple[int, int]:
    """Write the node-link snapshot of ``state``; returns its CRC-32 and size. Flushed to disk.

    The layout is the one ``iter_node_link_json`` streams, built straight from the stored nodes.
    """
    records = list(state)
    graph_attrs = {
        **attrs,
        "interactions": len(records),
        "links": [list(key) for key in state.links],
        "agent_names": agent_overrides(records),
    }
    sessions = _session_order(records)
    head = {"directed": True, "multigraph": False, "graph": graph_attrs}
    pieces = [
        iter([json.dumps(head)[:-1] + ', "nodes": [']),
        _json_chunks(_graph_nodes(records, sessions)),
        iter(['], "edges": [']),
        _json_chunks(_graph_edges(records, sessions, state.link_list())),
        iter(["]}"]),
    ]
    crc = size = 0
    with path.open("wb") as fh:
        for chunk in chain.from_iterable(pieces):
            data = chunk.encode("utf-8")
            crc = zlib.crc32(data, crc)
            size += len(data)
            fh.write(data)
        fsync_file(fh)
    return crc, size


_EDGES = b'], "edges": ['


def _nodes_text(data: bytes) -> str | None:
    """A snapshot in this store's layout as JSON text without its derived edges.

    The edges hold only ids and relation names, so the text ``], "edges": [`` cannot occur
    among them: its last occurrence starts the edges, which the store rebuilds itself.
    """
    cut = data.rfind(_EDGES)
    if cut < 0:
        return None
    return str(memoryview(data)[: cut + len(_EDGES)], "utf-8") + "]}"


def _parse(path: Path, data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptStoreError(path, f"not valid JSON ({exc})") from None


def read_snapshot(
    path: Path, crc: int | None, size: int | None
) -> tuple[dict[str, Any], GraphState]:
    """The graph attributes and the interactions of a snapshot.

    With the ``crc`` and ``size`` the map recorded, the file is checked against them first.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptStoreError(path, "the snapshot is missing") from None
    if size is not None and len(data) != size:
        raise CorruptStoreError(path, f"the file has {len(data)} bytes where {size} are expected")
    if crc is not None and zlib.crc32(data) != crc:
        raise CorruptStoreError(path, "the content does not match its checksum")
    top: Any = None
    try:
        text = _nodes_text(data) if crc is not None else None
    except UnicodeDecodeError as exc:
        raise CorruptStoreError(path, f"not valid UTF-8 ({exc})") from None
    if text is None:
        top = _parse(path, data)
    else:
        del data  # only the nodes are needed: free the file's bytes before parsing
        with contextlib.suppress(CorruptStoreError):
            top = _parse(path, text)
        del text
        if top is None:  # not this store's layout after all: parse the whole file
            top = _parse(path, path.read_bytes())
    if not isinstance(top, dict) or not isinstance(top.get("graph"), dict):
        raise CorruptStoreError(path, "not a node-link graph")
    attrs: dict[str, Any] = top["graph"]
    if attrs.get("format") != FORMAT:
        raise CorruptStoreError(path, "not a raeburnmemory snapshot")
    if attrs.get("version") != VERSION:
        raise CorruptStoreError(
            path, f"format version {attrs.get('version')!r} is not supported (expected {VERSION})"
        )
    try:
        state = _build_state(top["nodes"], attrs)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise CorruptStoreError(path, f"malformed node or attribute ({exc!r})") from None
    return attrs, state


def _build_state(nodes: list[dict[str, Any]], attrs: Mapping[str, Any]) -> GraphState:
    prompts: list[dict[str, Any]] = []
    responses: dict[str, dict[str, Any]] = {}
    agents: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for node in nodes:
        kind = node["kind"]
        if kind == "prompt":
            prompts.append(node)
        elif kind == "response":
            responses[node["key"]] = node
        elif kind == "agent":
            agents[node["key"]] = agent_node_fields(node)
    overrides: Mapping[str, list[Any]] = attrs.get("agent_names") or {}
    state = GraphState()
    state.load(prompts, responses, agents, overrides)
    for source, target, relation in attrs.get("links") or []:
        if source in state and target in state:
            state.add_link(Link(source, target, relation))
    return state


class MapFile:
    """The content of ``graph.json.map.json``."""

    __slots__ = ("crc", "dim", "epoch", "fmt", "generation", "ids", "size")

    def __init__(
        self,
        generation: int,
        epoch: int,
        fmt: str | None,
        dim: int | None,
        ids: list[str],
        crc: int | None,
        size: int | None,
    ) -> None:
        self.generation = generation
        self.epoch = epoch
        self.fmt = fmt
        self.dim = dim
        self.ids = ids
        self.crc = crc
        self.size = size

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to the file."""
        return {
            "generation": self.generation,
            "epoch": self.epoch,
            "vectors": self.fmt,
            "dim": self.dim,
            "graph_crc32": self.crc,
            "graph_size": self.size,
            "ids": self.ids,
        }


def write_map(path: Path, content: MapFile) -> None:
    """Write the map (flushed to disk)."""
    with path.open("w", encoding="utf-8") as fh:
        json.dump(content.to_json(), fh)
        fsync_file(fh)


def read_map(path: Path) -> MapFile:
    """Read and check the map; ``CorruptStoreError`` names the file when it cannot be used."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CorruptStoreError(path, "the vector map is missing") from None
    except ValueError as exc:
        raise CorruptStoreError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CorruptStoreError(path, "not a vector map")
    generation, epoch, fmt = data.get("generation"), data.get("epoch", 0), data.get("vectors")
    dim, ids = data.get("dim"), data.get("ids")
    crc, size = data.get("graph_crc32"), data.get("graph_size")
    valid = (
        isinstance(generation, int)
        and isinstance(epoch, int)
        and fmt in (None, "faiss", "npy")
        and (dim is None or isinstance(dim, int))
        and isinstance(ids, list)
        and all(isinstance(i, str) for i in ids)
        and (crc is None or isinstance(crc, int))
        and (size is None or isinstance(size, int))
    )
    if not valid or not isinstance(generation, int) or not isinstance(ids, list):
        raise CorruptStoreError(path, "malformed vector map")
    if len(set(ids)) != len(ids):
        raise CorruptStoreError(path, "a prompt id appears twice")
    return MapFile(generation, epoch, fmt, dim, ids, crc, size)
