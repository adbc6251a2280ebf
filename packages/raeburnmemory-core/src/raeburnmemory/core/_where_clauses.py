"""The nodes of a parsed metadata filter, the limits of the filter language, and the walk every
engine's translation of a filter shares.

:mod:`raeburnmemory.core.where` parses filters into these nodes and re-exports every public
name here; each engine's translator is a :class:`ClauseWalk` that says what each kind of node
becomes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

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


@dataclass(frozen=True)
class ValueKinds:
    """The values an ``Equal`` or ``OneOf`` looks for, sorted by kind, for the translators."""

    texts: tuple[str, ...]
    numbers: tuple[float, ...]
    booleans: tuple[bool, ...]
    null: bool

    @classmethod
    def of(cls, clause: Equal | OneOf) -> ValueKinds:
        """The wanted values of ``clause``: texts, numbers (as doubles), booleans, and null."""
        wanted = (clause.value,) if isinstance(clause, Equal) else clause.values
        return cls(
            texts=tuple(dict.fromkeys(item for item in wanted if isinstance(item, str))),
            numbers=tuple(
                dict.fromkeys(
                    float(item)
                    for item in wanted
                    if isinstance(item, (int, float)) and not isinstance(item, bool)
                )
            ),
            booleans=tuple(sorted({item for item in wanted if isinstance(item, bool)})),
            null=any(item is None for item in wanted),
        )

    @property
    def none(self) -> bool:
        """True when no value is wanted (an empty ``$in``): nothing matches."""
        return not (self.texts or self.numbers or self.booleans or self.null)


T = TypeVar("T")


class ClauseWalk(ABC, Generic[T]):
    """One engine's translation of a parsed filter into its own form ``T`` (SQL text, a mask).

    :meth:`translate` walks the tree, the parts of ``$and`` and ``$or`` first and in order; the
    engine's hooks say what each kind of node becomes.
    """

    def translate(self, clause: Clause) -> T:
        """What ``clause``, and every node under it, becomes."""
        if isinstance(clause, And):
            return self.all_of([self.translate(item) for item in clause.clauses])
        if isinstance(clause, Or):
            return self.any_of([self.translate(item) for item in clause.clauses])
        if isinstance(clause, Not):
            return self.negated(self.translate(clause.clause))
        if isinstance(clause, Exists):
            return self.present(clause.key)
        if isinstance(clause, Compare):
            return self.compared(clause.key, clause.op, clause.value)
        return self.equal(clause.key, ValueKinds.of(clause))

    @abstractmethod
    def all_of(self, parts: list[T]) -> T:
        """Every part holds (no parts: every record passes)."""

    @abstractmethod
    def any_of(self, parts: list[T]) -> T:
        """At least one part holds (no parts: no record passes)."""

    @abstractmethod
    def negated(self, part: T) -> T:
        """The part does not hold."""

    @abstractmethod
    def present(self, key: str) -> T:
        """The key is present, whatever its value."""

    @abstractmethod
    def compared(self, key: str, op: Comparison, bound: float) -> T:
        """The key holds a number (or a list with one) that passes ``op`` against ``bound``."""

    @abstractmethod
    def equal(self, key: str, wanted: ValueKinds) -> T:
        """The key holds one of the ``wanted`` values (or a list holding one)."""
