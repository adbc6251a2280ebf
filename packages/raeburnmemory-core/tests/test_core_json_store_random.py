"""Random sequences of writes, compactions and reopenings on two JSON store instances.

Each instance feeds a vector index the way MemoryGraph does (``load_vectors`` once, then
``refresh`` before each look, removals before additions); after every step both indexes, both
stores and a plain model must agree.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.errors import ConflictError, NotFoundError
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.model import EncoderInfo, Interaction, Link
from raeburnmemory.core.testing.data import interaction

DIM = 8
INFO = EncoderInfo("random-test", DIM)


class _Follower:
    """A store with the in-memory index a MemoryGraph would keep beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = JsonStore.open(str(path))
        self.index: dict[str, Any] = {}
        self._rebuild()

    def _rebuild(self) -> None:
        stored = self.store.load_vectors()
        self.index = {pid: stored.vectors[i].copy() for i, pid in enumerate(stored.ids)}

    def follow(self) -> None:
        changes = self.store.refresh()
        if changes.reset:
            self._rebuild()
            return
        for pid in changes.removed:
            self.index.pop(pid, None)
        for i, pid in enumerate(changes.added.ids):
            self.index[pid] = changes.added.vectors[i].copy()

    def reopen(self) -> None:
        self.store.close()
        self.store = JsonStore.open(str(self.path))
        self._rebuild()


def _item(rng: random.Random, pid: int) -> Interaction:
    variant = rng.randrange(3)  # same id with another text is a conflict
    return interaction(pid, prompt_text=f"question {pid} variant {variant}")


@pytest.mark.parametrize("seed", range(6))
def test_random_operations_agree_with_a_model(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "graph.json"
    first, second = _Follower(path), _Follower(path)
    first.store.set_encoder_info(INFO)
    model: dict[str, Interaction] = {}
    vectors: dict[str, Any] = {}
    links: set[Link] = set()
    for _step in range(60):
        actor = rng.choice((first, second))
        actor.follow()
        op = rng.random()
        if op < 0.5:
            items = [_item(rng, rng.randrange(40)) for _ in range(rng.randint(1, 4))]
            matrix = np.random.default_rng(rng.randrange(1 << 30)).standard_normal(
                (len(items), DIM)
            )
            matrix = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
            try:
                added = actor.store.add(items, matrix)
            except ConflictError:
                continue
            for i, item in enumerate(items):
                if item.prompt_id in added and item.prompt_id not in model:
                    model[item.prompt_id] = item
                    vectors[item.prompt_id] = matrix[i]
            for pid in added:  # MemoryGraph adds its own writes to its index itself
                actor.index[pid] = vectors[pid]
        elif op < 0.7:
            victims = [f"p{rng.randrange(40)}" for _ in range(rng.randint(1, 3))]
            removed = actor.store.delete(victims)
            assert sorted(removed) == sorted({v for v in victims if v in model})
            for pid in removed:
                model.pop(pid)
                vectors.pop(pid)
                actor.index.pop(pid, None)
            links = {link for link in links if link.source in model and link.target in model}
        elif op < 0.8:
            link = Link(f"p{rng.randrange(40)}", f"p{rng.randrange(40)}", "related_to")
            try:
                actor.store.link(link)
            except NotFoundError:
                assert link.source not in model or link.target not in model
                continue
            links.add(link)
        elif op < 0.9:
            actor.store.compact()
        else:
            actor.reopen()
        for follower in (first, second):
            follower.follow()
            assert set(follower.index) == set(model)
            for pid, vector in vectors.items():
                np.testing.assert_array_equal(follower.index[pid], vector)
            assert follower.store.count() == len(model)
            assert set(follower.store.links()) == links
        probe = rng.choice(sorted(model)) if model else None
        if probe is not None:
            assert second.store.get(probe) == model[probe]
            assert first.store.get(probe) == model[probe]
    first.store.close()
    second.store.close()
    with JsonStore.open(str(path), create=False) as final:
        assert {item.prompt_id: item for item in final.iter_interactions()} == model
        assert set(final.load_vectors().ids) == set(model)
