"""Random memories moved JSON -> JSONL -> SQLite -> JSONL -> PostgreSQL -> JSONL -> JSON.

Every store on the way, and the JSON store at the end, must hold exactly what the first one
held: ids, texts, agents and their names, sessions in order, links, metadata, attributes,
timestamps and the vectors bit for bit. Real files, a real SQLite database and a real
PostgreSQL server.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from raeburnmemory.core.importing import import_file
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.jsonl import read_jsonl, write_jsonl
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import EncoderInfo, Interaction, Link
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing.examples import examples
from raeburnmemory.postgres import PostgresStore

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

sqlite = pytest.importorskip("raeburnmemory.sqlite")

DIM = 8
ENCODER = EncoderInfo("round-trip-encoder", DIM)

_IDS = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=10).filter(
    lambda text: not text.isspace()
)
_TEXTS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.sampled_from([0.5, -2.25, 1e-3]),
    _TEXTS,
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXTS, inner, max_size=3),
    max_leaves=6,
)
_OBJECTS = st.dictionaries(_TEXTS, _JSON, max_size=3)
_ATTRS = st.dictionaries(st.sampled_from(["colour", "lang", "score", "tags"]), _JSON, max_size=2)
_MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)
)
_VECTORS = st.lists(
    st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=DIM, max_size=DIM
)


@st.composite
def memories(draw: st.DrawFn) -> tuple[list[Interaction], np.ndarray, list[Link]]:
    """Interactions with unique ids, a few agents (named or not), sessions, links and vectors."""
    prompts = draw(st.lists(_IDS, min_size=1, max_size=8, unique=True))
    responses = draw(st.lists(_IDS, min_size=len(prompts), max_size=len(prompts), unique=True))
    agents = draw(st.lists(_IDS, min_size=1, max_size=3, unique=True))
    sessions = draw(st.lists(_IDS, min_size=1, max_size=3, unique=True))
    items = []
    for prompt_id, response_id in zip(prompts, responses, strict=True):
        items.append(
            Interaction(
                prompt_id=prompt_id,
                prompt_text=draw(_TEXTS.filter(lambda text: bool(text.strip()))),
                response_id=response_id,
                response_text=draw(_TEXTS),
                agent_id=draw(st.sampled_from(agents)),
                agent_name=draw(st.none() | _TEXTS),
                session_id=draw(st.sampled_from(sessions)),
                timestamp=draw(_MOMENTS),
                metadata=draw(_OBJECTS),
                prompt_attrs=draw(_ATTRS),
                response_attrs=draw(_ATTRS),
                agent_attrs=draw(_ATTRS),
            )
        )
    vectors = np.array([draw(_VECTORS) for _ in items], dtype=np.float32)
    pairs = st.tuples(st.sampled_from(prompts), st.sampled_from(prompts), _IDS)
    links = [Link(*pair) for pair in draw(st.lists(pairs, max_size=4))]
    return items, vectors, links


def _everything(store: Store) -> dict[str, Any]:
    """What a store holds, in a shape that compares exactly (vectors as raw float32 bytes)."""
    stored = store.load_vectors()
    vectors = {
        pid: stored.vectors[row].astype("<f4").tobytes() for row, pid in enumerate(stored.ids)
    }
    return {
        "encoder": store.encoder_info(),
        "interactions": [item.to_dict() for item in store.iter_interactions()],
        "sessions": {
            sid: [item.prompt_id for item in store.session(sid)] for sid in store.sessions()
        },
        "session_order": store.sessions(),
        "agents": sorted((agent.id, agent.name, dict(agent.attrs)) for agent in store.agents()),
        "links": sorted((link.source, link.target, link.relation) for link in store.links()),
        "vectors": vectors,
    }


@contextmanager
def _postgres(dsn: str) -> Iterator[PostgresStore]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with PostgresStore.open(None, options={"dsn": dsn, "schema": schema}) as store:
            yield store
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _move(source: Store, target: Store, file: Path) -> None:
    write_jsonl(source, file)
    result = import_file(target, file, reembed=False)
    assert result.added == source.count()
    assert not result.reembedded


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(memory=memories())
def test_a_memory_survives_every_store_and_file_bit_for_bit(
    pg_dsn: str, memory: tuple[list[Interaction], np.ndarray, list[Link]]
) -> None:
    items, vectors, links = memory
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        work = Path(folder)
        first = stack.enter_context(JsonStore.open(str(work / "first" / "graph.json")))
        first.set_encoder_info(ENCODER)
        first.add(items, vectors)
        for link in links:
            first.link(link)
        expected = _everything(first)
        assert len(expected["interactions"]) == len(items)

        lite = stack.enter_context(sqlite.SQLiteStore.open(str(work / "graph.db")))
        _move(first, lite, work / "one.jsonl")
        assert _everything(lite) == expected

        pg = stack.enter_context(_postgres(pg_dsn))
        _move(lite, pg, work / "two.jsonl")
        assert _everything(pg) == expected

        last = stack.enter_context(JsonStore.open(str(work / "last" / "graph.json")))
        _move(pg, last, work / "three.jsonl")
        assert _everything(last) == expected

    for row, item in enumerate(items):  # and the vectors are the ones given, not re-made
        stored = expected["vectors"][item.prompt_id]
        assert np.array_equal(np.frombuffer(stored, dtype="<f4"), vectors[row])


def test_a_postgres_graph_imports_a_jsonl_export_and_searches_it(
    tmp_path: Path, pg_graph_options: dict[str, Any]
) -> None:
    with MemoryGraph(tmp_path / "graph.json", embedding_model=None) as source:
        source.add_interaction(
            {"id": "p1", "text": "How do I bake bread?"},
            {"id": "r1", "text": "Knead."},
            {"id": "a1"},
            "s1",
        )
        source.add_interaction(
            {"id": "p2", "text": "Which flour?"},
            {"id": "r2", "text": "Strong."},
            {"id": "a1"},
            "s1",
        )
        write_jsonl(source, tmp_path / "out.jsonl")
        expected = _everything(source.store)
    with MemoryGraph(embedding_model=None, **pg_graph_options) as target:
        result = import_file(target, tmp_path / "out.jsonl")
        assert (result.added, result.reembedded) == (2, False)
        assert _everything(target.store) == expected
        assert target.search("baking bread", top_k=1)[0].id == "p1"
    with read_jsonl(tmp_path / "out.jsonl") as reader:
        assert reader.header.encoder == expected["encoder"]
