"""A large batch holds the cyclic garbage collector off while it runs, and only then."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.memory_graph import MemoryGraph


def _items(seen: list[bool], bad_at: int | None = None) -> Iterator[dict[str, Any]]:
    for n in range(50):
        seen.append(gc.isenabled())
        yield {"prompt": "" if n == bad_at else f"question {n}", "response": "answer"}


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[MemoryGraph]:
    with MemoryGraph(db_path=tmp_path / "graph.json", embedding_model=HashingEncoder()) as made:
        yield made


def test_batch_add_pauses_the_collector_and_lets_it_run_again(graph: MemoryGraph) -> None:
    seen: list[bool] = []
    assert gc.isenabled()
    graph.batch_add(_items(seen))
    assert seen
    assert not any(seen)
    assert gc.isenabled()
    with pytest.raises(InvalidInteractionError):
        graph.batch_add(_items(seen, bad_at=3))
    assert gc.isenabled()


def test_a_collector_the_application_disabled_stays_disabled(graph: MemoryGraph) -> None:
    gc.disable()
    try:
        graph.batch_add(_items([]))
        graph.export()
        assert not gc.isenabled()
    finally:
        gc.enable()
