"""The nodes of a parsed metadata filter and the limits of the filter language.

:mod:`raeburnmemory.core.where` parses filters into these nodes and re-exports every public
name here; translators for each engine walk them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from raeburnmemory.core.limits import MAX_DEPTH, MAX_ID_LENGTH

#: The deepest a filter may be nested (the filter mapping itself is level 1), as for metadata.
MAX_FILTER_DEPTH = MAX_DEPTH
#: The most values (operands, each ``$in`` element counting once) a filter may hold.
MAX_FILTER_VALUES = 1024
#: The longest a key may be, in characters (the limit of ids).
MAX_KEY_LENGTH = MAX_ID_LENGTH
#: The largest integer magnitude a filter accepts: beyond, doubles no longer hold every integer.
MAX_EXACT_INTEGER = 2**53

#: A value a filter compares with.
Scalar = str | int | float | bool | None
#: The order comparisons.
Comparison = Literal["$gt", "$gte", "$lt", "$lte"]
#: The comparisons' names, in the order they are documented.
COMPARISONS: tuple[Comparison, ...] = ("$gt", "$gte", "$lt", "$lte")
#: Every operator a key's mapping accepts.
OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists")


def _tag(value: Scalar) -> tuple[str, Scalar]:
    """A value with its kind, so that ``1``, ``1.0`` and ``True`` are told apart where needed."""
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, str):
        return ("text", value)
    return ("number", float(value))


@dataclass(frozen=True, eq=False)
class Equal:
    """The key holds ``value`` (or, for a list, one of its elements is ``value``)."""

    key: str
    value: Scalar

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Equal)
            and self.key == other.key
            and _tag(self.value) == _tag(other.value)
        )

    def __hash__(self) -> int:
        return hash(("Equal", self.key, _tag(self.value)))


@dataclass(frozen=True, eq=False)
class OneOf:
    """The key holds one of ``values`` (none: matches nothing)."""

    key: str
    values: tuple[Scalar, ...]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, OneOf)
            and self.key == other.key
            and [_tag(v) for v in self.values] == [_tag(v) for v in other.values]
        )

    def __hash__(self) -> int:
        return hash(("OneOf", self.key, tuple(_tag(v) for v in self.values)))


@dataclass(frozen=True)
class Compare:
    """The key holds a number (or a list with a number) that passes ``op`` against ``value``."""

    key: str
    op: Comparison
    value: float


@dataclass(frozen=True)
class Exists:
    """The key is present, whatever its value."""

    key: str


@dataclass(frozen=True)
class Not:
    """The negation of a key's test (``$ne``, ``$nin``, ``$exists: false``)."""

    clause: Equal | OneOf | Exists


@dataclass(frozen=True)
class And:
    """Every clause holds (none: always true)."""

    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Or:
    """At least one clause holds."""

    clauses: tuple[Clause, ...]


#: A node of a parsed filter.
Clause = Equal | OneOf | Compare | Exists | Not | And | Or
