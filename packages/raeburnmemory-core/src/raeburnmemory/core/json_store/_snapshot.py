"""The JSON store's snapshot, ``graph.json``: the node-link JSON of the whole graph.

Its ``graph`` attributes carry what the store needs besides the nodes: the format and version,
the generation, the encoder, the vectors file format, the caller-made links and, for
interactions whose agent was named differently from the agent's latest name, that name. Writing
it also gives the index the map keeps (``_map_file``), so that a store opens without parsing a
node; :class:`SnapshotFile` then reads node pairs from the file as they are needed.

The format version sits in the file's first bytes, so even an open that parses no node checks it
(:func:`head_version`): a snapshot of another version is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from raeburnmemory.core._fsync import fsync_file
from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_store._node_pairs import write_pairs
from raeburnmemory.core.json_store._node_text import edges_text, session_nodes_text
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.json_text import dumps, loads
from raeburnmemory.core.layout import agent_fields, agent_node
from raeburnmemory.core.model import Link

__all__ = [
    "FORMAT",
    "VERSION",
    "SnapshotFile",
    "check_version",
    "head_version",
    "read_snapshot",
    "refuse_other_version",
    "write_snapshot",
]

FORMAT = "raeburnmemory"
#: The format version this code writes. Version 2 records the CRC-32 of the vectors file's rows
#: in the map and lets a compaction append rows to the file; version 1 stores still open.
VERSION = 2
#: The oldest format version this code reads.
OLDEST_VERSION = 1
_READ_CHUNK = 16 << 20
# The start of every snapshot this layout writes (0.1.0's too): the graph's first attributes.
_HEAD = re.compile(
    rb'\{"directed": (?:true|false), "multigraph": (?:true|false), '
    rb'"graph": \{"format": "raeburnmemory", "version": (-?\d{1,9})[,}]'
)
_HEAD_BYTES = 256


def head_version(head: bytes) -> int | None:
    """The format version a snapshot's first bytes declare; ``None`` if they are not this
    layout's (then only parsing the file tells)."""
    match = _HEAD.match(head)
    return int(match.group(1)) if match else None


def check_version(path: Path, version: object) -> None:
    """Raise ``CorruptStoreError`` naming ``path`` unless this code reads ``version``
    (:data:`OLDEST_VERSION` to :data:`VERSION`)."""
    if type(version) is int and OLDEST_VERSION <= version <= VERSION:
        return
    if type(version) is int and version > VERSION:
        raise CorruptStoreError(
            path,
            f"format version {version} is not supported: it was written by a newer "
            f"raeburnmemory, and this one reads format version {VERSION}; upgrade "
            "raeburnmemory-core to open it",
        )
    raise CorruptStoreError(
        path,
        f"format version {version!r} is not supported (expected {OLDEST_VERSION} to {VERSION})",
    )


def refuse_other_version(path: Path) -> None:
    """Refuse the snapshot at ``path`` if its first bytes declare another format version.

    Reads only those bytes; a missing file, or one not in this layout, passes (opening then
    reads it in full and says what is wrong).
    """
    try:
        with path.open("rb") as fh:
            version = head_version(fh.read(_HEAD_BYTES))
    except FileNotFoundError:
        return
    if version is not None:
        check_version(path, version)


def agent_overrides(
    records: list[StoredInteraction], latest: dict[str, StoredInteraction] | None = None
) -> dict[str, list[Any]]:
    """``{prompt id: [name, attrs]}`` where an interaction named its agent unlike the latest
    (``latest``: :func:`_latest_agents` of ``records``, when the caller has it)."""
    latest = _latest_agents(records) if latest is None else latest
    found: dict[str, list[Any]] = {}
    for record in records:
        last = latest[record.agent_id]
        if record.agent_name != last.agent_name or record.agent_attrs != last.agent_attrs:
            found[record.prompt_id] = [record.agent_name, dict(record.agent_attrs)]
    return found


def _session_order(records: list[StoredInteraction]) -> dict[str, list[int]]:
    """Each session's record positions by timestamp, then insertion."""
    sessions: dict[str, list[int]] = {}
    last: dict[str, float] = {}  # each session's latest member's time so far
    unsorted: set[str] = set()
    for position, record in enumerate(records):
        session, seconds = record.session_id, record.timestamp_seconds
        members = sessions.get(session)
        if members is None:
            sessions[session] = [position]
        else:
            members.append(position)
            if seconds < last[session]:
                unsorted.add(session)
        last[session] = seconds
    for session in unsorted:
        sessions[session].sort(key=lambda position: (records[position].timestamp_seconds, position))
    return sessions


def _other_nodes(latest: dict[str, StoredInteraction], sessions: Iterable[str]) -> Iterator[str]:
    """The agent nodes (``latest``: each agent's latest record) and the session nodes, as
    :func:`raeburnmemory.core.graph.node_link_data` has them."""
    for agent_id, record in latest.items():
        yield dumps(agent_node(agent_id, record.agent_name, record.agent_attrs))
    yield from session_nodes_text(sessions)


def _latest_agents(records: Iterable[StoredInteraction]) -> dict[str, StoredInteraction]:
    latest: dict[str, StoredInteraction] = {}
    for record in records:
        latest[record.agent_id] = record
    return latest


def _joined(parts: Iterator[str], size: int = 4096) -> Iterator[str]:
    """``parts`` as the comma-separated inside of a JSON array, a few thousand at a time."""
    first = True
    while True:
        batch = list(islice(parts, size))
        if not batch:
            return
        text = ", ".join(batch)
        yield text if first else ", " + text
        first = False


class _Output:
    """Writes text to a file in large pieces, keeping its size and CRC-32."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.size = 0
        self.crc = 0
        self._pending: list[str] = []
        self._pending_size = 0

    def write(self, text: str) -> None:
        """Queue ASCII text (``json.dumps`` output) for the file."""
        self._pending.append(text)
        self.size += len(text)
        self._pending_size += len(text)
        if self._pending_size > 1 << 20:
            self.flush()

    def write_raw(self, data: bytes) -> None:
        """Write bytes copied from another snapshot (after what is queued)."""
        self.flush()
        self.crc = zlib.crc32(data, self.crc)
        self.fh.write(data)
        self.size += len(data)

    def flush(self) -> None:
        """Write out what is queued."""
        data = "".join(self._pending).encode("ascii")
        self.crc = zlib.crc32(data, self.crc)
        self.fh.write(data)
        self._pending, self._pending_size = [], 0


def snapshot_index(
    records: list[StoredInteraction],
    spans: list[int],
    links: list[Link],
    overrides: dict[str, list[Any]] | None = None,
    latest: dict[str, StoredInteraction] | None = None,
) -> dict[str, Any]:
    """What the map keeps of a snapshot so that opening it parses no node.

    Per interaction, in order: prompt, response, session and agent ids, timestamp, and where its
    prompt and response nodes sit in ``graph.json`` (offset and length, flattened); then the
    agents' latest names, the per-interaction names that differ, and the caller-made links.
    """
    latest = _latest_agents(records) if latest is None else latest
    return {
        "prompts": [r.prompt_id for r in records],
        "responses": [r.response_id for r in records],
        "sessions": [r.session_id for r in records],
        "agents": [r.agent_id for r in records],
        "stamps": [r.timestamp_text for r in records],
        "times": [r.timestamp_seconds for r in records],
        "spans": spans,
        "agent_nodes": {a: [r.agent_name, dict(r.agent_attrs)] for a, r in latest.items()},
        "agent_names": agent_overrides(records) if overrides is None else overrides,
        "links": [[link.source, link.target, link.relation] for link in links],
        "expiry": {r.prompt_id: r.expires for r in records if r.expires is not None},
    }


def write_snapshot(
    path: Path, state: GraphState, attrs: Mapping[str, Any], *, sync: bool = True
) -> tuple[int, int, dict[str, Any]]:
    """Write the node-link snapshot of ``state``, flushed to disk (with ``sync=False`` the
    caller forces it there).

    Returns its CRC-32, its size and its index (:func:`snapshot_index`). The layout is the one
    ``iter_node_link_json`` streams, built straight from the stored nodes.
    """
    records = list(state)
    links = state.link_list()
    latest = _latest_agents(records)
    overrides = agent_overrides(records, latest)
    graph_attrs = {
        **attrs,
        "interactions": len(records),
        "links": [list(key) for key in state.links],
        "agent_names": overrides,
    }
    sessions = _session_order(records)
    keys = [encode_basestring_ascii(record.prompt_id)[1:-1] for record in records]  # bare()
    head = {"directed": True, "multigraph": False, "graph": graph_attrs}
    spans: list[int] = []
    with path.open("wb") as fh:
        out = _Output(fh)
        out.write(dumps(head)[:-1] + ', "nodes": [')
        write_pairs(out, records, keys, spans)
        for chunk in _joined(_other_nodes(latest, sessions)):
            out.write(chunk if not spans or chunk.startswith(", ") else ", " + chunk)
        out.write('], "edges": [')
        for chunk in _joined(edges_text(records, keys, sessions.values(), links)):
            out.write(chunk)
        out.write("]}")
        out.flush()
        if sync:
            fsync_file(fh)
    return out.crc, out.size, snapshot_index(records, spans, links, overrides, latest)


class SnapshotFile:
    """An open ``graph.json`` checked against its size and CRC-32, read a node pair at a time.

    The open descriptor keeps this generation's file readable after a compaction replaces it.
    A snapshot whose first bytes declare another format version is refused; ``layout_known``
    is false when they are not this layout's at all (the caller parses the file instead).
    """

    def __init__(self, path: Path, crc: int, size: int) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise CorruptStoreError(path, "the snapshot is missing") from None
        try:
            version = head_version(os.pread(self._fd, _HEAD_BYTES, 0))
            if version is not None:
                check_version(path, version)
            self.layout_known = version is not None
            self._check(crc, size)
        except BaseException:
            self.close()
            raise

    def _check(self, crc: int, size: int) -> None:
        actual = os.fstat(self._fd).st_size
        if actual != size:
            raise CorruptStoreError(
                self.path, f"the file has {actual} bytes where {size} are expected"
            )
        found = 0
        for offset in range(0, size, _READ_CHUNK):
            found = zlib.crc32(os.pread(self._fd, _READ_CHUNK, offset), found)
        if found != crc:
            raise CorruptStoreError(self.path, "the content does not match its checksum")

    def nodes(self, offset: int, length: int) -> list[dict[str, Any]]:
        """The nodes written at ``offset`` (a prompt and its response, if it has one)."""
        return self.node_range(offset, offset + length)

    def node_range(self, start: int, end: int) -> list[dict[str, Any]]:
        """Every node between two byte offsets (``start`` at a node, ``end`` after one)."""
        try:
            found = loads(b"[" + os.pread(self._fd, end - start, start) + b"]")
        except ValueError as exc:
            reason = f"unreadable nodes at byte {start} ({exc})"
            raise CorruptStoreError(self.path, reason) from None
        if not isinstance(found, list) or not all(isinstance(n, dict) for n in found):
            raise CorruptStoreError(self.path, f"unreadable nodes at byte {start}")
        return found

    def raw(self, start: int, end: int) -> bytes:
        """The file's bytes between two offsets, as they are."""
        data = os.pread(self._fd, end - start, start)
        if len(data) != end - start:
            raise CorruptStoreError(self.path, f"the file ends before byte {end}")
        return data

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


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
        return loads(data)
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
    check_version(path, attrs.get("version"))
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
            agents[node["key"]] = agent_fields(node)
    overrides: Mapping[str, list[Any]] = attrs.get("agent_names") or {}
    state = GraphState()
    state.fill_from_nodes(prompts, responses, agents, overrides)
    for source, target, relation in attrs.get("links") or []:
        if source in state and target in state:
            state.add_link(Link(source, target, relation))
    return state
