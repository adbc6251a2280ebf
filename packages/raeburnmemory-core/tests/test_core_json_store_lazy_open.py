"""Opening a JSON store makes no record until one is asked for, and behaves as before."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.json_store._column_mapping import ColumnMapping
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.model import EncoderInfo, Interaction, Link, VectorPayload
from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors
from raeburnmemory.core.testing.examples import examples
from raeburnmemory.core.where import Where

DIM = 8
INFO = EncoderInfo("test-encoder", DIM)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "graph.json"


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The prompt ids of the records made from a snapshot's index, as they are made."""
    ids: list[str] = []
    lazy = StoredInteraction.lazy.__func__  # type: ignore[attr-defined]

    def counted(cls: type[StoredInteraction], *args: object, **kwargs: object) -> object:
        record = lazy(cls, *args, **kwargs)
        ids.append(record.prompt_id)
        return record

    monkeypatch.setattr(StoredInteraction, "lazy", classmethod(counted))
    return ids


def _payload(stored: Interaction | None) -> VectorPayload:
    assert stored is not None
    return VectorPayload(stored.session_id, stored.agent_id, stored.timestamp.timestamp())


def _compacted(path: Path, count: int) -> None:
    with JsonStore.open(str(path)) as store:
        store.set_encoder_info(INFO)
        store.add(interactions(count), unit_vectors(count, DIM))
        store.link(Link("p1", "p2"))
        store.compact()


def test_a_record_asked_for_by_id_is_the_only_one_made(path: Path, made: list[str]) -> None:
    _compacted(path, 50)
    made.clear()
    with JsonStore.open(str(path)) as store:
        assert store.count() == 50
        assert made == []
        assert store.get("p7") == interaction(7)
        assert store.get("nope") is None
        assert made == ["p7"]
        stored = store.vector_matrix()
        assert stored.ids == [f"p{i}" for i in range(50)]
        assert made == ["p7"]
        with_payloads = store.load_vectors()
        assert with_payloads.payloads == [_payload(interaction(i)) for i in range(50)]
        assert made == ["p7"]
        assert store.links() == [Link("p1", "p2")]


def test_order_after_replace_and_delete_on_a_lazily_opened_store(path: Path) -> None:
    _compacted(path, 6)
    changed = interaction(2, prompt_text="asked again", metadata={"n": 2, "again": True})
    with JsonStore.open(str(path)) as store:
        store.replace([changed], unit_vectors(1, DIM, seed=3))
        assert store.delete(["p4", "ghost"]) == ["p4"]
        store.add([interaction(9)], unit_vectors(1, DIM, seed=4))
        expected = ["p0", "p1", "p3", "p5", "p2", "p9"]
        assert [i.prompt_id for i in store.iter_interactions()] == expected
        assert store.get("p2") == changed
        assert store.get("p4") is None
        assert store.matching_ids(ListQuery()) == expected
        assert store.matching_ids(ListQuery(where=Where.parse({"again": True}))) == ["p2"]
        stored = store.load_vectors()
        assert stored.ids == expected
        assert stored.payloads == [_payload(store.get(pid)) for pid in expected]
        assert store.stats()["interactions"] == 6
        assert store.sessions() == ["session-0", "session-1", "session-3", "session-2"]
        assert store.links() == [Link("p1", "p2")]  # a replaced prompt keeps its links
        store.compact()
    with JsonStore.open(str(path)) as store:
        assert [i.prompt_id for i in store.iter_interactions()] == expected
        assert store.get("p2") == changed


def test_expiry_and_agents_come_from_the_index(path: Path, made: list[str]) -> None:
    soon = datetime(2030, 1, 1, tzinfo=timezone.utc)
    with JsonStore.open(str(path)) as store:
        store.set_encoder_info(INFO)
        store.add(
            [
                interaction(0, agent_name="First"),
                interaction(1, expires_at=soon),
                interaction(3, agent_name="Renamed"),
            ],
            unit_vectors(3, DIM),
        )
        store.compact()
    made.clear()
    with JsonStore.open(str(path)) as store:
        assert store.expired_ids(soon + timedelta(seconds=1)) == ["p1"]
        assert store.get("p0") == interaction(0, agent_name="First")
        assert store.get("p3") == interaction(3, agent_name="Renamed")
        assert made == ["p1", "p0", "p3"]


# -- the mapping against a dict ------------------------------------------------------------------

_KEYS = st.sampled_from([f"k{i}" for i in range(8)])
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _KEYS, st.integers(0, 99)),
        st.tuples(st.just("del"), _KEYS, st.just(0)),
        st.tuples(st.just("pop"), _KEYS, st.just(0)),
        st.tuples(st.just("get"), _KEYS, st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=examples(200), deadline=None)
@given(column=st.lists(_KEYS, unique=True), steps=_STEPS)
def test_a_column_mapping_behaves_as_a_dict(
    column: list[str], steps: list[tuple[str, str, int]]
) -> None:
    values = {key: position * 1000 for position, key in enumerate(column)}
    mapping: ColumnMapping[int] = ColumnMapping(column, lambda position: position * 1000)
    touched = False
    for op, key, value in steps:
        touched = touched or op == "set" or (op != "get" and key in values)
        if op == "set":
            values[key] = mapping[key] = value
        elif op == "del":
            if key in values:
                del values[key]
                del mapping[key]
            else:
                with pytest.raises(KeyError):
                    del mapping[key]
        elif op == "pop":
            assert mapping.pop(key, None) == values.pop(key, None)
        else:
            assert mapping.get(key) == values.get(key)
            assert (key in mapping) == (key in values)
        assert list(mapping) == list(values)
        assert len(mapping) == len(values)
    assert list(mapping.values()) == list(values.values())
    assert list(mapping.items()) == list(values.items())
    assert list(reversed(mapping.values())) == list(reversed(values.values()))
    assert list(reversed(mapping.items())) == list(reversed(values.items()))
    assert list(reversed(mapping)) == list(reversed(values))
    assert mapping.missing([*column, "other"]) == [k for k in [*column, "other"] if k not in values]
    if not touched:
        assert mapping.untouched
    if mapping.untouched:
        assert list(mapping.items()) == [(key, p * 1000) for p, key in enumerate(column)]
