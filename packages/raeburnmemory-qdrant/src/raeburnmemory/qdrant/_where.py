"""Metadata filters as Qdrant payload filters, for the embedded engine and for servers.

A point does not carry the raw metadata: Qdrant's conditions cannot tell ``1`` from ``True``
(Qdrant Edge's ``MatchValue(True)`` matches the integer 1), cannot test that a key is present
with a ``null`` or ``[]`` value, and cannot name a key holding a double quote. So
:func:`where_payload` writes what filters need under the payload field :data:`WHERE_FIELD`, each
kind of value apart, under keys spelled ``k`` + the UTF-8 hex of the metadata key::

    {"keys": [...], "nulls": [...], "text": {k: [...]}, "number": {k: [...]}, "bool": {k: [0|1]}}

``keys`` lists the keys present; ``nulls`` those holding ``null`` (or a list with one); ``text``,
``number`` and ``bool`` each key's values of that kind, a scalar as one value and a list's own
elements each (lists in lists and mappings are left out: they match nothing). Booleans are 0 and
1 in a field that holds nothing else. Qdrant matches a condition on a list field when any
element matches, which is the language's list rule.

Numbers are not stored as numbers: Qdrant reads a payload's floats through a conversion that is
not always correctly rounded (``3.4183537179374242e-99`` is stored as the next double down), so
equal doubles could compare unequal. Each number (the double the language compares; an integer
too large for a double is left out) is stored as its order-preserving 64-bit key split into two
32-bit integers, ``{"h": high, "l": low}``, which Qdrant holds exactly; a comparison is a nested
condition on one element: ``h`` beyond the bound's, or equal and ``l`` beyond.

:func:`edge_filter` and :func:`client_filter` then translate a
:class:`~raeburnmemory.core.where.Where` into a Qdrant Edge or ``qdrant-client`` filter selecting
exactly the points whose metadata :func:`~raeburnmemory.core.where.matches` selects.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import qdrant_edge as edge
from qdrant_client import models

from raeburnmemory.core.where import (
    And,
    Clause,
    Compare,
    Comparison,
    Equal,
    Exists,
    Not,
    OneOf,
    Or,
    ValueKinds,
    Where,
    as_number,
    elements,
)

__all__ = [
    "WHERE_FIELD",
    "client_filter",
    "edge_filter",
    "field_key",
    "number_key",
    "where_payload",
]

#: The payload field holding what metadata filters read.
WHERE_FIELD = "where"

C = TypeVar("C")


def field_key(key: str) -> str:
    """A metadata key as a payload key every Qdrant path can name: ``k`` + its UTF-8 hex."""
    return "k" + key.encode("utf-8").hex()


def number_key(number: float) -> tuple[int, int]:
    """A double's order-preserving unsigned 64-bit key, as its high and low 32 bits: keys
    compare as the doubles do (``-0.0`` is ``0.0``)."""
    (bits,) = struct.unpack(">Q", struct.pack(">d", number + 0.0))  # + 0.0 turns -0.0 to 0.0
    key = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | 1 << 63
    return key >> 32, key & 0xFFFF_FFFF


def where_payload(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """What a prompt's point carries (under :data:`WHERE_FIELD`) for filters on its metadata."""
    keys: list[str] = []
    nulls: list[str] = []
    kinds: dict[str, dict[str, list[Any]]] = {"text": {}, "number": {}, "bool": {}}
    for key, value in metadata.items():
        name = field_key(key)
        keys.append(name)
        for item in elements(value):
            if item is None:
                if not nulls or nulls[-1] != name:
                    nulls.append(name)
            elif isinstance(item, bool):
                kinds["bool"].setdefault(name, []).append(int(item))
            elif isinstance(item, str):
                kinds["text"].setdefault(name, []).append(item)
            else:
                number = as_number(item)
                if number is not None:
                    high, low = number_key(number)
                    kinds["number"].setdefault(name, []).append({"h": high, "l": low})
    found: dict[str, Any] = {"keys": keys}
    if nulls:
        found["nulls"] = nulls
    found.update((kind, values) for kind, values in kinds.items() if values)
    return found


def edge_filter(where: Where) -> edge.Filter | None:
    """The Qdrant Edge filter of ``where`` (``None`` when it lets everything through)."""
    return None if where.everything else _EdgeConditions().top(where.root)


def client_filter(where: Where) -> models.Filter | None:
    """The ``qdrant-client`` filter of ``where`` (``None`` when it lets everything through)."""
    return None if where.everything else _ClientConditions().top(where.root)


def _path(kind: str, key: str) -> str:
    return f"{WHERE_FIELD}.{kind}.{field_key(key)}"


class _Conditions(ABC, Generic[C]):
    """The translation, written once over an engine's condition types (``C``)."""

    @abstractmethod
    def match(self, path: str, values: list[str] | list[int]) -> C:
        """The field at ``path`` holds one of ``values`` (or a list with one)."""

    @abstractmethod
    def range(self, path: str, op: Comparison, value: int) -> C:
        """The field holds an integer passing ``op`` against ``value``."""

    @abstractmethod
    def nested(self, path: str, item: C) -> C:
        """One object of the list at ``path`` meets ``item`` (its keys relative to the object)."""

    @abstractmethod
    def all(self, items: list[C]) -> C:
        """Every condition holds."""

    @abstractmethod
    def any(self, items: list[C]) -> C:
        """At least one condition holds (``items`` is never empty)."""

    @abstractmethod
    def negate(self, item: C) -> C:
        """The condition does not hold."""

    @abstractmethod
    def nothing(self) -> C:
        """A condition no point meets."""

    def top(self, clause: Clause) -> C:
        """The whole filter, as the engine's filter type."""
        return self.all([self.clause(clause)])

    def clause(self, clause: Clause) -> C:
        """One node of the tree."""
        if isinstance(clause, And):
            return self.all([self.clause(item) for item in clause.clauses])
        if isinstance(clause, Or):
            items = [self.clause(item) for item in clause.clauses]
            return self.any(items) if items else self.nothing()
        if isinstance(clause, Not):
            return self.negate(self.clause(clause.clause))
        if isinstance(clause, Exists):
            return self.match(f"{WHERE_FIELD}.keys", [field_key(clause.key)])
        if isinstance(clause, Compare):
            return self.number(clause.key, clause.op, clause.value)
        return self.equal(clause)

    def number(self, key: str, op: Comparison | None, value: float) -> C:
        """The key holds a number passing ``op`` against ``value`` (``None``: equal to it)."""
        high, low = number_key(value)
        same_high = self.match("h", [high])
        if op is None:
            inner = self.all([same_high, self.match("l", [low])])
        else:
            strict: Comparison = "$gt" if op in ("$gt", "$gte") else "$lt"
            inner = self.any(
                [self.range("h", strict, high), self.all([same_high, self.range("l", op, low)])]
            )
        return self.nested(_path("number", key), inner)

    def equal(self, clause: Equal | OneOf) -> C:
        """The key holds one of the wanted values, kind by kind."""
        wanted = ValueKinds.of(clause)
        parts: list[C] = []
        if wanted.texts:
            parts.append(self.match(_path("text", clause.key), list(wanted.texts)))
        parts.extend(self.number(clause.key, None, n) for n in wanted.numbers)
        if wanted.booleans:
            parts.append(self.match(_path("bool", clause.key), [int(b) for b in wanted.booleans]))
        if wanted.null:
            parts.append(self.match(f"{WHERE_FIELD}.nulls", [field_key(clause.key)]))
        if not parts:
            return self.nothing()
        return parts[0] if len(parts) == 1 else self.any(parts)


_Edge = Any  # a Qdrant Edge condition (its classes share no base)


class _EdgeConditions(_Conditions[_Edge]):
    """Qdrant Edge's condition types."""

    def match(self, path: str, values: list[str] | list[int]) -> _Edge:
        how = edge.MatchValue(values[0]) if len(values) == 1 else edge.MatchAny(values)
        return edge.FieldCondition(key=path, match=how)

    def range(self, path: str, op: Comparison, value: int) -> _Edge:
        return edge.FieldCondition(key=path, range=edge.RangeFloat(**{op[1:]: float(value)}))

    def nested(self, path: str, item: _Edge) -> _Edge:
        return edge.NestedCondition(path, edge.Filter(must=[item]))

    def all(self, items: list[_Edge]) -> _Edge:
        return edge.Filter(must=items)

    def any(self, items: list[_Edge]) -> _Edge:
        return edge.Filter(should=items)

    def negate(self, item: _Edge) -> _Edge:
        return edge.Filter(must_not=[item])

    def nothing(self) -> _Edge:
        return edge.HasIdCondition(set())


_Client = Any  # a qdrant-client condition model


class _ClientConditions(_Conditions[_Client]):
    """``qdrant-client``'s condition models (for servers)."""

    def match(self, path: str, values: list[str] | list[int]) -> _Client:
        how: models.Match = (
            models.MatchValue(value=values[0]) if len(values) == 1 else models.MatchAny(any=values)
        )
        return models.FieldCondition(key=path, match=how)

    def range(self, path: str, op: Comparison, value: int) -> _Client:
        return models.FieldCondition(key=path, range=models.Range(**{op[1:]: float(value)}))

    def nested(self, path: str, item: _Client) -> _Client:
        return models.NestedCondition(
            nested=models.Nested(key=path, filter=models.Filter(must=[item]))
        )

    def all(self, items: list[_Client]) -> _Client:
        return models.Filter(must=items)

    def any(self, items: list[_Client]) -> _Client:
        return models.Filter(should=items)

    def negate(self, item: _Client) -> _Client:
        return models.Filter(must_not=[item])

    def nothing(self) -> _Client:
        return models.HasIdCondition(has_id=[])
