"""The store contract's cases about vectors and encoders: what every store refuses, and how.

Part of :class:`~raeburnmemory.core.testing.store_contract.StoreContract`, which mixes it in.
Vectors that do not fit are ``InvalidInteractionError`` on every store (they are data of the
interactions, not a setting), and nothing is written when they are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.errors import EmbeddingMismatchError, InvalidInteractionError
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors

DIM = 32
ENCODER = EncoderInfo("contract-encoder", DIM)


def _nothing_stored(store: Store) -> None:
    assert store.count() == 0
    assert len(store.load_vectors()) == 0


class StoreRulesContract:
    """Vectors and encoders: the cases the backends once answered differently."""

    def test_vectors_that_do_not_fit_are_refused(self, store: Store) -> None:
        refused: list[tuple[Any, str]] = [
            (unit_vectors(3, DIM), "one vector per interaction"),  # rows != interactions
            (unit_vectors(1, DIM), "one vector per interaction"),
            (unit_vectors(2, DIM)[0], "one vector per interaction"),  # a 1-D array
            (unit_vectors(2, DIM + 1), "dimensions"),  # not the recorded encoder's
            (unit_vectors(2, DIM - 1), "dimensions"),
        ]
        for vectors, message in refused:
            with pytest.raises(InvalidInteractionError, match=message):
                store.add(interactions(2), vectors)
            _nothing_stored(store)
        assert store.encoder_info() == ENCODER

    def test_a_replacement_that_does_not_fit_changes_nothing(self, store: Store) -> None:
        vectors = unit_vectors(3, DIM)
        store.add(interactions(3), vectors)
        wider = EncoderInfo("wider-encoder", 48)
        refused = [
            [(["p0", "p1"], unit_vectors(2, 48)), (["p2"], unit_vectors(1, 16))],
            [(["p0", "p1"], unit_vectors(1, 48))],
        ]
        for batches in refused:
            with pytest.raises(InvalidInteractionError, match="dimensions"):
                store.replace_vectors(iter(batches), wider)
            assert store.encoder_info() == ENCODER
            stored = store.load_vectors()
            rows = {pid: stored.vectors[row] for row, pid in enumerate(stored.ids)}
            assert sorted(rows) == ["p0", "p1", "p2"]
            np.testing.assert_allclose(rows["p1"], vectors[1], rtol=1e-6)

    def test_vectors_before_an_encoder_are_refused(self, opened: Callable[..., Store]) -> None:
        store = opened()
        with pytest.raises(InvalidInteractionError, match="record the encoder"):
            store.add(interactions(2), unit_vectors(2, DIM))
        _nothing_stored(store)
        assert store.encoder_info() is None
        assert store.add(interactions(2), None) == ["p0", "p1"]  # no vectors: no encoder needed

    def test_an_empty_add_returns_before_any_check(self, opened: Callable[..., Store]) -> None:
        store = opened()
        assert store.add([], None) == []
        assert store.add([], unit_vectors(3, DIM)) == []
        assert store.add([], np.zeros(5, dtype=np.float32)) == []
        _nothing_stored(store)

    def test_another_encoder_only_while_no_vectors_exist(
        self, opened: Callable[..., Store]
    ) -> None:
        store = opened()
        store.set_encoder_info(EncoderInfo("first", 8))
        store.set_encoder_info(ENCODER)  # nothing stored yet: accepted
        store.add([interaction(0)], None)
        store.set_encoder_info(EncoderInfo("second", 16))  # no vector stored: accepted
        store.set_encoder_info(ENCODER)
        store.add([interaction(1)], unit_vectors(1, DIM))
        for other in (EncoderInfo("second", 16), EncoderInfo("same-size", DIM)):
            with pytest.raises(EmbeddingMismatchError, match="contract-encoder"):
                store.set_encoder_info(other)
            assert store.encoder_info() == ENCODER
        store.set_encoder_info(ENCODER)  # the same one again: nothing to do
        assert store.delete(["p1"]) == ["p1"]
        store.set_encoder_info(EncoderInfo("second", 16))  # its vectors are gone: accepted
        assert opened().encoder_info() == EncoderInfo("second", 16)
