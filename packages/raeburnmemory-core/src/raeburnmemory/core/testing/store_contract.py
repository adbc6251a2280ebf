"""What every storage backend must do, written against the :class:`Store` API only.

A backend's test module subclasses :class:`StoreContract` and provides the fixture
``store_factory``: ``store_factory(create=True) -> Store`` opens the same store on every call, so
a test can hold two instances of it (as two processes would). Stores a test opens are closed by
the contract itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from raeburnmemory.core.errors import (
    ConflictError,
    InvalidInteractionError,
    NotFoundError,
    StoreNotFoundError,
)
from raeburnmemory.core.limits import MAX_DEPTH, MAX_ID_LENGTH, MAX_JSON_BYTES
from raeburnmemory.core.model import EncoderInfo, Interaction, Link
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing._store_rules import DIM, ENCODER, StoreRulesContract
from raeburnmemory.core.testing._store_writes import StoreWritesContract
from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors
from raeburnmemory.core.testing.expiry_contract import ExpiryStoreContract
from raeburnmemory.core.testing.listing_contract import ListingContract
from raeburnmemory.core.testing.prompt_only_contract import PromptOnlyStoreContract

__all__ = ["StoreContract", "closing_all"]

#: More interactions than one chunk of ``MemoryGraph.batch_add`` or one journal line.
BIG_BATCH = 2100
StoreFactory = Callable[..., Store]
_S = TypeVar("_S", bound=Store)


@contextlib.contextmanager
def closing_all(open_store: Callable[..., _S]) -> Iterator[Callable[..., _S]]:
    """``open_store`` (any arguments), keeping every store it opens in the block to close them
    all at the block's end: the factory fixture of a store's tests."""
    stores: list[_S] = []

    def opening(*args: Any, **kwargs: Any) -> _S:
        store = open_store(*args, **kwargs)
        stores.append(store)
        return store

    yield opening
    for store in stores:
        store.close()


def _rows(store: Store) -> dict[str, Any]:
    stored = store.load_vectors()
    assert len(stored.ids) == len(stored.payloads) == stored.vectors.shape[0]
    return {pid: stored.vectors[i] for i, pid in enumerate(stored.ids)}


def _nested(depth: int) -> dict[str, Any]:
    """A JSON object ``depth`` levels deep (the object itself is level 1)."""
    value: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        value = {"inner": value}
    return value


#: One value past a limit of :mod:`raeburnmemory.core.limits` for each field of a record.
OUT_OF_LIMITS: dict[str, Any] = {
    "prompt_id": "line\nbreak",
    "response_id": "tab\there",
    "agent_id": "nul\x00",
    "session_id": "lone \ud800 surrogate",
    "prompt_text": "lone \udc00 surrogate",
    "agent_name": "\udfff",
    "response_text": "NUL \x00 inside",
    "metadata": _nested(MAX_DEPTH + 1),
    "prompt_attrs": {"big": "x" * MAX_JSON_BYTES},
    "response_attrs": {"key \ud800": 1},
    "agent_attrs": {"nan": float("nan")},
    "timestamp": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
}
LIMIT_MESSAGES = {
    "prompt_id": "control character",
    "response_id": "control character",
    "agent_id": "control character",
    "session_id": "lone surrogate",
    "prompt_text": "lone surrogate",
    "agent_name": "lone surrogate",
    "response_text": "NUL",
    "metadata": "nested more than",
    "prompt_attrs": "bytes as JSON",
    "response_attrs": "lone surrogate",
    "agent_attrs": "finite",
    "timestamp": "years 1 to 9999",
}
#: Values at the limits, which every store keeps and gives back unchanged.
AT_THE_LIMITS: dict[str, Any] = {
    "prompt_id": "a/b c?d#e%f\u00e9\u4e2d\U0001f600",
    "session_id": "s " + "x" * (MAX_ID_LENGTH - 2),
    "prompt_text": "text\nwith\tcontrols\x7f and \U0001f600",
    "metadata": {**_nested(MAX_DEPTH), "list": [1, 2.5, None, "\u2028"]},
    "prompt_attrs": {"big": "x" * (MAX_JSON_BYTES - 12)},
    "timestamp": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
}


class StoreContract(
    StoreRulesContract,
    StoreWritesContract,
    ListingContract,
    PromptOnlyStoreContract,
    ExpiryStoreContract,
):
    """The store contract: subclass it and provide the ``store_factory`` fixture.

    Its cases about vectors and encoders come from ``StoreRulesContract``, those about
    conflicting writes from ``StoreWritesContract``, those about listing and counting from
    ``ListingContract``, those about prompts without a response from
    ``PromptOnlyStoreContract`` and those about expiry from ``ExpiryStoreContract``.
    """

    @pytest.fixture
    def opened(self, store_factory: StoreFactory) -> Iterator[Callable[..., Store]]:
        """Opens stores through ``store_factory`` and closes them after the test."""
        with closing_all(store_factory) as open_store:
            yield open_store

    @pytest.fixture
    def store(self, opened: Callable[..., Store]) -> Store:
        """A fresh store with the contract's encoder recorded."""
        store = opened()
        store.set_encoder_info(ENCODER)
        return store

    # -- round trips --------------------------------------------------------------------------

    def test_add_and_get_round_trip_every_field(self, store: Store) -> None:
        item = Interaction(
            prompt_id="p-full",
            prompt_text="What is the capital of France?\nAnd its river?",
            response_id="r-full",
            response_text="Paris, on the Seine. ✓",
            agent_id="agent-x",
            session_id="session-x",
            timestamp=datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=timezone(timedelta(hours=2))),
            agent_name="Xavier",
            metadata={"tags": ["geo", "fr"], "score": 0.5, "nested": {"ok": True, "none": None}},
            prompt_attrs={"lang": "en"},
            response_attrs={"tokens": 7},
            agent_attrs={"model": "m-1"},
        )
        assert store.add([item], unit_vectors(1, DIM)) == ["p-full"]
        got = store.get("p-full")
        assert got == item
        assert got is not None
        assert got.timestamp.utcoffset() is not None
        assert got.timestamp.timestamp() == item.timestamp.timestamp()
        assert store.get("missing") is None
        assert store.get_many(["missing", "p-full"]) == [item]

    def test_reopen_after_close_keeps_everything(self, opened: Callable[..., Store]) -> None:
        first = opened()
        first.set_encoder_info(ENCODER)
        items = interactions(6)
        vectors = unit_vectors(6, DIM)
        first.add(items, vectors)
        first.link(Link("p0", "p1", "cites"))
        first.delete(["p5"])
        first.close()
        second = opened(create=False)
        assert second.count() == 5
        assert [second.get(item.prompt_id) for item in items[:5]] == items[:5]
        assert second.links() == [Link("p0", "p1", "cites")]
        assert second.encoder_info() == ENCODER
        rows = _rows(second)
        assert sorted(rows) == [f"p{i}" for i in range(5)]
        np.testing.assert_allclose(rows["p3"], vectors[3], rtol=1e-6)

    def test_missing_store_with_create_false(self, opened: Callable[..., Store]) -> None:
        with pytest.raises(StoreNotFoundError):
            opened(create=False)

    def test_close_twice_is_harmless(self, opened: Callable[..., Store]) -> None:
        store = opened()
        store.close()
        store.close()

    # -- duplicates and conflicts ---------------------------------------------------------------

    def test_same_content_is_skipped(self, store: Store) -> None:
        items = interactions(3)
        assert store.add(items, unit_vectors(3, DIM)) == ["p0", "p1", "p2"]
        later = interaction(1, timestamp=datetime(2030, 1, 1, tzinfo=timezone.utc))
        assert store.add([later, *interactions(2, start=3)], unit_vectors(3, DIM, seed=1)) == [
            "p3",
            "p4",
        ]
        assert store.count() == 5
        assert store.get("p1") == items[1]
        assert len(store.load_vectors()) == 5

    def test_duplicate_inside_one_batch(self, store: Store) -> None:
        item = interaction(0)
        assert store.add([item, item], unit_vectors(2, DIM)) == ["p0"]
        assert store.count() == 1

    def test_conflict_writes_nothing(self, store: Store) -> None:
        store.add(interactions(2), unit_vectors(2, DIM))
        clash = interaction(1, prompt_text="something else entirely")
        with pytest.raises(ConflictError, match="p1"):
            store.add([*interactions(2, start=10), clash], unit_vectors(3, DIM))
        assert store.count() == 2
        assert store.get("p10") is None
        assert store.get("p1") == interaction(1)
        assert sorted(_rows(store)) == ["p0", "p1"]

    def test_response_id_owned_by_another_prompt(self, store: Store) -> None:
        store.add([interaction(0)], unit_vectors(1, DIM))
        thief = interaction(1, response_id="r-p0")
        with pytest.raises(ConflictError, match="r-p0"):
            store.add([thief], unit_vectors(1, DIM))
        pair = [interaction(2, response_id="shared"), interaction(3, response_id="shared")]
        with pytest.raises(ConflictError):
            store.add(pair, unit_vectors(2, DIM))
        assert store.count() == 1

    def test_all_or_nothing_batch_on_bad_metadata(self, store: Store) -> None:
        bad = interaction(1, metadata={"when": object()})
        with pytest.raises(InvalidInteractionError):
            store.add([interaction(0), bad], unit_vectors(2, DIM))
        assert store.count() == 0
        assert len(store.load_vectors()) == 0

    @pytest.mark.parametrize("field", sorted(OUT_OF_LIMITS))
    def test_refuses_records_outside_the_limits(self, store: Store, field: str) -> None:
        bad = interaction(1, **{field: OUT_OF_LIMITS[field]})
        with pytest.raises(InvalidInteractionError, match=LIMIT_MESSAGES[field]):
            store.add([interaction(0), bad], unit_vectors(2, DIM))
        assert store.count() == 0
        assert len(store.load_vectors()) == 0

    @pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
    def test_refuses_non_finite_vectors(self, store: Store, value: float) -> None:
        vectors = unit_vectors(2, DIM)
        vectors[1, 3] = value
        with pytest.raises(InvalidInteractionError, match="NaN or infinite"):
            store.add(interactions(2), vectors)
        assert store.count() == 0
        assert len(store.load_vectors()) == 0

    def test_keeps_a_record_at_the_limits(self, opened: Callable[..., Store]) -> None:
        first = opened()
        first.set_encoder_info(ENCODER)
        item = interaction(0, **AT_THE_LIMITS)
        first.add([item], unit_vectors(1, DIM))
        first.close()
        second = opened(create=False)
        assert second.get(item.prompt_id) == item
        assert second.session(item.session_id) == [item]

    def test_a_batch_of_several_thousand_is_all_or_nothing(
        self, store: Store, opened: Callable[..., Store]
    ) -> None:
        store.add(interactions(2), unit_vectors(2, DIM))
        big = interactions(BIG_BATCH, start=10)
        refused = [
            [*big, interaction(1, prompt_text="changed")],  # conflicts with a stored prompt
            [*big, interaction(11, prompt_text="changed")],  # with its own first part
            [*big, interaction(9000, response_id="r-p12")],  # claims a response of the batch
            [*big, interaction(9000, metadata={"when": object()})],  # cannot be stored
        ]
        for batch in refused:
            with pytest.raises((ConflictError, InvalidInteractionError)):
                store.add(batch, unit_vectors(len(batch), DIM))
            assert store.count() == 2
        assert opened().count() == 2
        assert sorted(_rows(store)) == ["p0", "p1"]
        again = [*big, *interactions(2), interaction(10)]  # same content again: skipped
        assert store.add(again, unit_vectors(len(again), DIM)) == [i.prompt_id for i in big]
        assert store.add(again, unit_vectors(len(again), DIM)) == []
        assert opened().count() == BIG_BATCH + 2

    # -- sessions, agents, links ------------------------------------------------------------------

    def test_session_order_by_timestamp_then_insertion(self, store: Store) -> None:
        t0 = datetime(2026, 2, 1, tzinfo=timezone.utc)
        late = interaction(0, session_id="s", timestamp=t0 + timedelta(minutes=5))
        early = interaction(1, session_id="s", timestamp=t0)
        tie_a = interaction(2, session_id="s", timestamp=t0 + timedelta(minutes=1))
        tie_b = interaction(3, session_id="s", timestamp=t0 + timedelta(minutes=1))
        other = interaction(4, session_id="t", timestamp=t0)
        store.add([late, early], unit_vectors(2, DIM))
        store.add([tie_a, other, tie_b], unit_vectors(3, DIM, seed=2))
        assert [i.prompt_id for i in store.session("s")] == ["p1", "p2", "p3", "p0"]
        assert store.session("nope") == []
        assert store.sessions() == ["s", "t"]

    def test_agents_latest_name_wins(self, store: Store) -> None:
        store.add([interaction(0, agent_id="a", agent_name="Old")], None)
        store.add([interaction(1, agent_id="b", agent_name="Bee")], None)
        store.add([interaction(2, agent_id="a", agent_name="New")], None)
        agents = {agent.id: agent.name for agent in store.agents()}
        assert agents == {"a": "New", "b": "Bee"}
        first = store.get("p0")
        assert first is not None
        assert first.agent_name == "Old"

    def test_links(self, store: Store) -> None:
        store.add(interactions(3), unit_vectors(3, DIM))
        store.link(Link("p0", "p1"))
        store.link(Link("p1", "p2", "follows_up"))
        store.link(Link("p0", "p1"))  # again: no duplicate
        assert sorted(store.links(), key=lambda link: link.source) == [
            Link("p0", "p1", "related_to"),
            Link("p1", "p2", "follows_up"),
        ]
        with pytest.raises(NotFoundError, match="ghost"):
            store.link(Link("p0", "ghost"))
        with pytest.raises(NotFoundError):
            store.link(Link("ghost", "p0"))

    def test_delete_removes_interaction_vectors_and_links(self, store: Store) -> None:
        store.add(interactions(4), unit_vectors(4, DIM))
        store.link(Link("p0", "p1"))
        store.link(Link("p2", "p3"))
        assert store.delete(["p1", "missing", "p1"]) == ["p1"]
        assert store.get("p1") is None
        assert store.links() == [Link("p2", "p3")]
        assert sorted(_rows(store)) == ["p0", "p2", "p3"]
        assert store.delete(["p1"]) == []
        assert store.count() == 3
        # the response id is free again
        assert store.add([interaction(9, response_id="r-p1")], unit_vectors(1, DIM)) == ["p9"]

    def test_delete_whole_session_forgets_it(self, store: Store) -> None:
        store.add(interactions(4, sessions=2), unit_vectors(4, DIM))
        members = [item.prompt_id for item in store.session("session-0")]
        assert store.delete(members) == members
        assert store.sessions() == ["session-1"]
        assert store.session("session-0") == []

    def test_count_stats_and_iteration(self, store: Store) -> None:
        items = interactions(5, sessions=2, agents=2)
        store.add(items, unit_vectors(5, DIM))
        store.link(Link("p0", "p4"))
        stats = store.stats()
        assert stats["interactions"] == 5
        assert stats["sessions"] == 2
        assert stats["agents"] == 2
        assert stats["links"] == 1
        assert store.count() == 5
        assert list(store.iter_interactions()) == items

    # -- vectors and encoder -------------------------------------------------------------------

    def test_encoder_info(self, opened: Callable[..., Store]) -> None:
        store = opened()
        assert store.encoder_info() is None
        store.set_encoder_info(ENCODER)
        store.set_encoder_info(ENCODER)
        assert store.encoder_info() == ENCODER
        other = opened()
        assert other.encoder_info() == ENCODER

    def test_load_vectors_rows_match_ids_and_payloads(self, store: Store) -> None:
        items = interactions(7)
        vectors = unit_vectors(7, DIM, seed=3)
        store.add(items[:4], vectors[:4])
        store.add(items[4:], vectors[4:])
        store.add([interaction(20)], None)  # no vector
        stored = store.load_vectors()
        assert sorted(stored.ids) == sorted(item.prompt_id for item in items)
        assert stored.vectors.dtype == np.float32
        assert stored.vectors.shape == (7, DIM)
        by_id = {item.prompt_id: (i, item) for i, item in enumerate(items)}
        for row, pid in enumerate(stored.ids):
            index, item = by_id[pid]
            np.testing.assert_allclose(stored.vectors[row], vectors[index], rtol=1e-6)
            assert stored.payloads[row] == item.payload

    def test_vector_blocks_hand_over_the_rows_of_load_vectors(
        self, opened: Callable[..., Store]
    ) -> None:
        store, other = opened(), opened()
        store.set_encoder_info(ENCODER)
        store.add(interactions(5), unit_vectors(5, DIM, seed=3))
        other.load_vectors()
        store.add(interactions(9)[5:], unit_vectors(4, DIM, seed=4))
        expected = store.load_vectors()
        with other.vector_blocks(rows=2) as blocks:
            assert blocks.count == 9
            parts = list(blocks)
        assert [pid for part in parts for pid in part.ids] == expected.ids
        assert [p for part in parts for p in part.payloads] == expected.payloads
        together = np.concatenate([part.vectors for part in parts])
        np.testing.assert_array_equal(together, expected.vectors)

    def test_replace_vectors(self, store: Store) -> None:
        store.add(interactions(5), unit_vectors(5, DIM))
        new_info = EncoderInfo("bigger-encoder", 48)
        fresh = unit_vectors(5, 48, seed=9)
        ids = [f"p{i}" for i in range(5)]
        store.replace_vectors([(ids[:2], fresh[:2]), (ids[2:], fresh[2:])], new_info)
        assert store.encoder_info() == new_info
        rows = _rows(store)
        assert sorted(rows) == ids
        for i, pid in enumerate(ids):
            np.testing.assert_allclose(rows[pid], fresh[i], rtol=1e-6)
        assert store.count() == 5

    def test_replace_vectors_is_all_or_nothing(self, store: Store) -> None:
        vectors = unit_vectors(3, DIM)
        store.add(interactions(3), vectors)

        def failing() -> Iterator[tuple[list[str], Any]]:
            yield ["p0"], unit_vectors(1, 16)
            raise RuntimeError("encoder failed")

        with pytest.raises(RuntimeError):
            store.replace_vectors(failing(), EncoderInfo("other", 16))
        assert store.encoder_info() == ENCODER
        rows = _rows(store)
        np.testing.assert_allclose(rows["p0"], vectors[0], rtol=1e-6)

    # -- two instances ---------------------------------------------------------------------------

    def test_refresh_sees_another_instance_never_its_own(
        self, opened: Callable[..., Store]
    ) -> None:
        writer, reader = opened(), opened()
        writer.set_encoder_info(ENCODER)
        reader.load_vectors()
        assert not reader.refresh()
        vectors = unit_vectors(3, DIM)
        writer.add(interactions(3), vectors)
        assert not writer.refresh()
        changes = reader.refresh()
        assert not changes.reset
        assert changes.added.ids == ["p0", "p1", "p2"]
        np.testing.assert_allclose(changes.added.vectors, vectors, rtol=1e-6)
        assert changes.added.payloads == [item.payload for item in interactions(3)]
        assert not reader.refresh()
        assert reader.get("p2") == interaction(2)
        writer.delete(["p1"])
        changes = reader.refresh()
        assert changes.removed == ["p1"]
        assert not changes.added.ids
        assert reader.get("p1") is None
        reader.add([interaction(7)], unit_vectors(1, DIM))
        assert not reader.refresh()
        changes = writer.refresh()
        assert changes.added.ids == ["p7"] or changes.reset

    def test_second_instance_sees_links_and_encoder(self, opened: Callable[..., Store]) -> None:
        first, second = opened(), opened()
        first.set_encoder_info(ENCODER)
        first.add(interactions(2), unit_vectors(2, DIM))
        first.link(Link("p0", "p1"))
        assert second.encoder_info() == ENCODER
        assert second.links() == [Link("p0", "p1")]
        assert second.count() == 2
        with pytest.raises(ConflictError):
            second.add([interaction(0, prompt_text="changed")], unit_vectors(1, DIM))

    # -- files -----------------------------------------------------------------------------------

    def test_own_files_name_every_file_the_store_keeps(self, opened: Callable[..., Store]) -> None:
        store, other = opened(), opened()
        store.set_encoder_info(ENCODER)
        store.add(interactions(6), unit_vectors(6, DIM))
        store.link(Link("p0", "p5"))
        store.delete(["p3"])
        other.refresh()
        store.compact()
        store.add([interaction(8)], unit_vectors(1, DIM))
        files = store.own_files()
        assert all(isinstance(path, Path) for path in files)
        if "://" in store.location:  # a database server: nothing of it on local disk
            return
        declared = {Path(os.path.realpath(path)) for path in files}
        assert Path(os.path.realpath(store.location)) in declared
        folder = Path(store.location).absolute().parent
        on_disk = {Path(os.path.realpath(p)) for p in folder.rglob("*") if p.is_file()}
        assert on_disk, "a store on local disk has files"
        assert on_disk <= declared, f"files of the store it does not name: {on_disk - declared}"
