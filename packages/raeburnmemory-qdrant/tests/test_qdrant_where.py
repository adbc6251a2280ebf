"""Metadata filters translated to Qdrant filters select, on a real Qdrant Edge shard (and in
qdrant-client's local mode), the points whose metadata matches() selects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qdrant_edge as edge
from hypothesis import HealthCheck, given, settings
from qdrant_client import QdrantClient, models

from raeburnmemory.core.testing.examples import examples
from raeburnmemory.core.testing.where_strategies import (
    EXAMPLE_RECORDS,
    EXAMPLES,
    assert_selects_as_matches,
    cases,
)
from raeburnmemory.core.where import Where
from raeburnmemory.qdrant._where import (
    WHERE_FIELD,
    client_filter,
    edge_filter,
    field_key,
    number_key,
    where_payload,
)

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow


class _EdgeTarget:
    """A real Qdrant Edge shard: fill it with records, then ask which pass a filter."""

    def __init__(self, folder: Path) -> None:
        config = edge.EdgeConfig(
            vectors=edge.EdgeVectorParams(size=2, distance=edge.Distance.Cosine)
        )
        self.shard = edge.EdgeShard.create(str(folder), config)
        self.count = 0

    def fill(self, records: list[dict[str, Any]]) -> Callable[[Where], set[int]]:
        if self.count:
            self.shard.update(edge.UpdateOperation.delete_points(list(range(self.count))))
        points = [
            edge.Point(row, [1.0, 0.5], {WHERE_FIELD: where_payload(meta)})
            for row, meta in enumerate(records)
        ]
        if points:
            self.shard.update(edge.UpdateOperation.upsert_points(points))
        self.count = len(records)
        return self.select

    def select(self, where: Where) -> set[int]:
        request = edge.ScrollRequest(
            limit=1000, filter=edge_filter(where), with_payload=False, with_vector=False
        )
        records, _ = self.shard.scroll(request)
        return {int(record.id) for record in records}


class _ClientTarget:
    """qdrant-client in local mode (in memory), with the same payloads and client filters."""

    def __init__(self) -> None:
        self.client = QdrantClient(location=":memory:")
        self.client.create_collection(
            "w", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE)
        )
        self.count = 0

    def fill(self, records: list[dict[str, Any]]) -> Callable[[Where], set[int]]:
        if self.count:
            self.client.delete("w", points_selector=list(range(self.count)))
        points = [
            models.PointStruct(
                id=row, vector=[1.0, 0.5], payload={WHERE_FIELD: where_payload(meta)}
            )
            for row, meta in enumerate(records)
        ]
        if points:
            self.client.upsert("w", points)
        self.count = len(records)
        return self.select

    def select(self, where: Where) -> set[int]:
        records, _ = self.client.scroll("w", scroll_filter=client_filter(where), limit=1000)
        return {int(record.id) for record in records}


@pytest.fixture(scope="module", params=["edge", "client"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_EdgeTarget | _ClientTarget]:
    """A Qdrant Edge shard, or qdrant-client's local mode (a Python stand-in for a server)."""
    if request.param == "edge":
        shard = _EdgeTarget(tmp_path_factory.mktemp("where") / "shard")
        yield shard
        shard.shard.close()
    else:
        local = _ClientTarget()
        yield local
        local.client.close()


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_filter_selects_what_matches_selects(
    target: _EdgeTarget | _ClientTarget, case: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    records, wanted = case
    assert_selects_as_matches(target.fill(records), records, wanted)


@pytest.mark.parametrize(("mapping", "expected"), EXAMPLES)
def test_examples(
    target: _EdgeTarget | _ClientTarget, mapping: dict[str, Any], expected: set[int]
) -> None:
    assert target.fill(EXAMPLE_RECORDS)(Where.parse(mapping)) == expected


def test_payload_keeps_kinds_apart() -> None:
    payload = where_payload({"a": [1, True, "1", None, [2], {"b": 3}], 'q"x': 10**400})
    a, q = field_key("a"), field_key('q"x')
    assert payload == {
        "keys": [a, q],
        "nulls": [a],
        "text": {a: ["1"]},
        "number": {a: [{"h": number_key(1.0)[0], "l": number_key(1.0)[1]}]},
        "bool": {a: [1]},
    }


def test_field_keys_are_path_safe() -> None:
    assert field_key('a."b"[0]') == "k" + b'a."b"[0]'.hex()
    assert field_key("") == "k"


def test_number_keys_keep_the_order_of_doubles() -> None:
    numbers = [-1e308, -2.5, -5e-324, 0.0, 5e-324, 3.4183537179374242e-99, 1.0, 2.0**53, 1e308]
    keys = [number_key(n) for n in numbers]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert number_key(-0.0) == number_key(0.0)
    assert all(0 <= part < 2**32 for key in keys for part in key)
