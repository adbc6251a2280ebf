"""The store contract's cases about conflicting writes: leaving the clashing items out.

Part of :class:`~raeburnmemory.core.testing.store_contract.StoreContract`, which mixes it in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from raeburnmemory.core.errors import ConflictError
from raeburnmemory.core.model import Link
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing._store_rules import DIM, ENCODER
from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors


class StoreWritesContract:
    """``add(..., skip_conflicts=True)`` writes what does not clash and keeps what is stored."""

    def test_skipping_conflicts_writes_the_rest(self, store: Store) -> None:
        store.add(interactions(2), unit_vectors(2, DIM))
        before = store.load_vectors()
        clash = interaction(1, prompt_text="something else entirely")
        thief = interaction(7, response_id="r-p0")
        batch = [interaction(10), clash, thief, interaction(11)]
        vectors = unit_vectors(4, DIM, seed=3)
        assert store.add(batch, vectors, skip_conflicts=True) == ["p10", "p11"]
        assert store.count() == 4
        assert store.get("p1") == interaction(1)
        assert store.get("p7") is None
        stored = store.load_vectors()
        rows = {pid: stored.vectors[row] for row, pid in enumerate(stored.ids)}
        old = {pid: before.vectors[row] for row, pid in enumerate(before.ids)}
        assert np.array_equal(rows["p1"], old["p1"])
        assert np.allclose(rows["p11"], vectors[3], atol=1e-6)

    def test_skipping_leaves_a_later_clash_of_the_batch_out(self, store: Store) -> None:
        first = interaction(0)
        again = interaction(0, prompt_text="the same id, other words")
        assert store.add([first, again], unit_vectors(2, DIM), skip_conflicts=True) == ["p0"]
        assert store.get("p0") == first

    def test_a_record_without_a_name_keeps_the_agent_known(self, store: Store) -> None:
        named = interaction(0, agent_id="a", agent_name="Analyst", agent_attrs={"team": "ops"})
        store.add([named], None)
        store.add([interaction(1, agent_id="a", agent_name=None, agent_attrs={})], None)
        store.add([interaction(2, agent_id="b", agent_name="Bee")], None)
        store.add([interaction(3, agent_id="a", agent_name="Lead", agent_attrs={})], None)
        agents = {agent.id: (agent.name, dict(agent.attrs)) for agent in store.agents()}
        assert agents == {"a": ("Lead", {"team": "ops"}), "b": ("Bee", {})}
        assert [agent.id for agent in store.agents()] == ["a", "b"]
        store.add(
            [interaction(4, agent_id="a", agent_name=None, agent_attrs={"team": "sre"})], None
        )
        latest = {agent.id: (agent.name, dict(agent.attrs)) for agent in store.agents()}
        assert latest["a"] == ("Lead", {"team": "sre"})

    def test_replace_puts_new_content_in_place_in_one_step(
        self, opened: Callable[..., Store]
    ) -> None:
        store, other = opened(), opened()
        store.set_encoder_info(ENCODER)
        store.add(interactions(3), unit_vectors(3, DIM))
        store.link(Link("p0", "p1", "see_also"))
        other.refresh()
        new = interaction(1, prompt_text="completely new words", response_id="r-new")
        vectors = unit_vectors(2, DIM, seed=9)
        assert store.replace([new, interaction(5)], vectors) == ["p1", "p5"]
        assert store.replace([new], vectors[:1]) == [], "the same content is left alone"
        changes = other.refresh()
        assert not changes.reset
        seen = {pid: row for row, pid in enumerate(changes.added.ids)}
        assert "p1" in seen, "a replaced vector is reported as a change"
        assert np.allclose(changes.added.vectors[seen["p1"]], vectors[0], atol=1e-6)
        for reader in (store, other):
            assert reader.get("p1") == new
            assert reader.count() == 4
            assert reader.links() == [Link("p0", "p1", "see_also")]
            stored = reader.load_vectors()
            rows = {pid: stored.vectors[row] for row, pid in enumerate(stored.ids)}
            assert np.allclose(rows["p1"], vectors[0], atol=1e-6)
        assert other.session("session-1")[0].prompt_text == "completely new words"

    def test_replace_refuses_a_response_of_another_prompt(self, store: Store) -> None:
        store.add(interactions(2), unit_vectors(2, DIM))
        thief = interaction(1, prompt_text="changed", response_id="r-p0")
        with pytest.raises(ConflictError, match="r-p0"):
            store.replace([interaction(4), thief], unit_vectors(2, DIM))
        twice = [interaction(6), interaction(6, prompt_text="other words")]
        with pytest.raises(ConflictError, match="p6"):
            store.replace(twice, unit_vectors(2, DIM))
        assert store.get("p1") == interaction(1)
        assert store.count() == 2

    def test_vectors_of_reads_just_the_vectors_asked_for(self, store: Store) -> None:
        vectors = unit_vectors(3, DIM)
        store.add(interactions(3), vectors)
        found = store.vectors_of(["p2", "missing", "p0"])
        assert sorted(found.ids) == ["p0", "p2"]
        for row, pid in enumerate(found.ids):
            assert np.array_equal(found.vectors[row], vectors[int(pid[1:])])
            assert found.payloads[row] == interaction(int(pid[1:])).payload
        assert store.vectors_of([]).ids == []

    def test_vectors_of_reads_compacted_vectors_after_reopening(
        self, opened: Callable[..., Store]
    ) -> None:
        first = opened()
        first.set_encoder_info(ENCODER)
        vectors = unit_vectors(3, DIM)
        first.add(interactions(3), vectors)
        first.compact()
        found = opened().vectors_of(["p1"])
        assert found.ids == ["p1"]
        assert np.array_equal(found.vectors[0], vectors[1])

    def test_rewrite_writes_the_same_content_with_new_metadata(self, store: Store) -> None:
        vectors = unit_vectors(2, DIM)
        store.add(interactions(2), vectors)
        same = interaction(0, metadata={"n": 0, "checked": True})
        assert store.replace([same], vectors[:1]) == []
        assert store.get("p0") == interaction(0)
        assert store.replace([same], vectors[:1], rewrite=True) == ["p0"]
        assert store.get("p0") == same
        assert store.count() == 2
        assert sorted(store.load_vectors().ids) == ["p0", "p1"]

    def test_the_version_token_changes_with_every_write_of_any_instance(
        self, opened: Callable[..., Store]
    ) -> None:
        store, other = opened(), opened()
        store.set_encoder_info(ENCODER)
        store.add(interactions(3), unit_vectors(3, DIM))
        first = store.version_token()
        if first is None:
            pytest.skip("this store has no version token")
        assert store.version_token() == first == other.version_token()
        seen = {first}
        writes: list[Callable[[], object]] = [
            lambda: other.add([interaction(5)], unit_vectors(1, DIM, seed=4)),
            lambda: store.replace([interaction(1, session_id="moved")], unit_vectors(1, DIM)),
            lambda: other.delete(["p0"]),
            lambda: store.replace_vectors(
                [(["p1", "p2", "p5"], unit_vectors(3, DIM, seed=8))], ENCODER
            ),
        ]
        for write in writes:
            write()
            token = other.version_token()
            assert token == store.version_token()
            assert token is not None
            assert token not in seen
            seen.add(token)
