"""The JSON text of a snapshot's nodes and edges, made without building their dicts.

A snapshot holds each node and edge exactly as ``json.dumps`` writes the dicts of
:mod:`raeburnmemory.core.layout`. Building a dict per node and encoding it one at a time is most
of what writing a large snapshot costs, so the common shapes (no extra node attributes) are laid
out here from the fields, each string escaped by the standard library's own C escaper, which
gives the same text; any other shape is encoded from its dict as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring_ascii
from typing import Any

from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.json_text import dumps
from raeburnmemory.core.model import Link

__all__ = ["bare", "edges_text", "pair_text", "session_nodes_text"]


def bare(text: str) -> str:
    """``text`` as a JSON string without its quotes (``json.dumps`` escaping, ASCII only)."""
    return encode_basestring_ascii(text)[1:-1]


def _object(value: Any) -> str:
    return dumps(value) if value else "{}"


def pair_text(record: StoredInteraction, key: str) -> str:
    """The prompt node and response node of a record added since the last snapshot, as the
    inside of a JSON array (``key`` is :func:`bare` of its prompt id)."""
    data = record.added
    assert data is not None
    if data.get("prompt_attrs") or data.get("response_attrs"):
        answer = record.response
        return dumps([record.prompt] if answer is None else [record.prompt, answer])[1:-1]
    response_id = record.response_id
    answer_key = None if response_id is None else bare(response_id)
    answer_field = "null" if answer_key is None else f'"{answer_key}"'
    text = (
        f'{{"id": "prompt:{key}", "kind": "prompt", "key": "{key}", '
        f'"text": {encode_basestring_ascii(data["prompt_text"])}, '
        f'"timestamp": {encode_basestring_ascii(record.timestamp_text)}, '
        f'"metadata": {_object(data.get("metadata"))}, '
        f'"session_id": {encode_basestring_ascii(record.session_id)}, '
        f'"response_id": {answer_field}, '
        f'"agent_id": {encode_basestring_ascii(record.agent_id)}'
    )
    if record.expires is not None:
        text += f', "expires_at": {encode_basestring_ascii(record.expires)}'
    if answer_key is None:
        return text + "}"
    return (
        f'{text}}}, {{"id": "response:{answer_key}", "kind": "response", "key": "{answer_key}", '
        f'"text": {encode_basestring_ascii(data["response_text"])}, "prompt_id": "{key}"}}'
    )


def session_nodes_text(sessions: Iterable[str]) -> Iterator[str]:
    """Each session's node (:func:`raeburnmemory.core.layout.session_node`)."""
    for session_id in sessions:
        key = bare(session_id)
        yield f'{{"id": "session:{key}", "kind": "session", "key": "{key}"}}'


def _edge(source: str, target: str, relation: str) -> str:
    return f'{{"source": "{source}", "target": "{target}", "relation": "{relation}"}}'


def edges_text(
    records: list[StoredInteraction],
    keys: list[str],
    sessions: Iterable[list[int]],
    links: Iterable[Link],
) -> Iterator[str]:
    """Every edge, in the order :func:`raeburnmemory.core.graph.node_link_data` has them.

    ``keys`` are :func:`bare` of the records' prompt ids and ``sessions`` each session's
    record positions in session order.
    """
    session_keys: dict[str, str] = {}  # few sessions and agents: each escaped once
    agent_keys: dict[str, str] = {}
    for record, key in zip(records, keys, strict=True):
        session = session_keys.get(record.session_id)
        if session is None:
            session = session_keys[record.session_id] = "session:" + bare(record.session_id)
        in_session = (
            f'{{"source": "prompt:{key}", "target": "{session}", "relation": "belongs_to"}}'
        )
        if record.response_id is None:
            yield in_session
            continue
        agent = agent_keys.get(record.agent_id)
        if agent is None:
            agent = agent_keys[record.agent_id] = "agent:" + bare(record.agent_id)
        response = bare(record.response_id)
        # the record's three edges as one piece of the array (the text _edge gives each)
        yield (
            f'{{"source": "prompt:{key}", "target": "response:{response}", '
            f'"relation": "responded_with"}}, '
            f'{{"source": "response:{response}", "target": "{agent}", '
            f'"relation": "generated_by"}}, {in_session}'
        )
    for members in sessions:
        for earlier, later in itertools.pairwise(members):
            yield (
                f'{{"source": "prompt:{keys[earlier]}", "target": "prompt:{keys[later]}", '
                '"relation": "followed_by"}'
            )
    for link in links:
        yield _edge(
            "prompt:" + bare(link.source), "prompt:" + bare(link.target), bare(link.relation)
        )
