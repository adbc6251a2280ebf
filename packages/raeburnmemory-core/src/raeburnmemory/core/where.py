"""Metadata filters (``where=``): the language, its parser and the reference evaluation.

A filter is a mapping in the operator language of MongoDB and Chroma::

    {"user": "ana"}                                   # user equals "ana"
    {"user": "ana", "score": {"$gte": 0.5}}           # both (a mapping's entries all hold)
    {"$or": [{"topic": "billing"}, {"priority": {"$in": [1, 2]}}]}
    {"reviewed": {"$exists": False}}

:meth:`Where.parse` checks it and turns it into a small immutable tree; :func:`matches` evaluates
a tree on one record's metadata in plain Python. That evaluation **is** the meaning of a filter:
every engine's translation (SQL over SQLite's JSON functions, PostgreSQL ``jsonb``, Qdrant payload
conditions, column arrays) selects exactly the records it selects.

The rules:

* **Keys** name top-level metadata keys, exactly: ``"a.b"`` is the key ``a.b``, not a path into
  an object. A key is text of at most :data:`MAX_KEY_LENGTH` characters and may not start with
  ``$`` (those are operators).
* **Operators** of a key: ``$eq $ne $gt $gte $lt $lte $in $nin $exists``; a bare value means
  ``$eq``; several operators in one mapping must all hold. ``$and`` and ``$or`` take a non-empty
  list of conditions; several entries in one mapping must all hold. The empty filter ``{}``
  matches every record.
* **Values** are text, numbers, ``True``/``False`` and ``None``. Lists and mappings are not values
  (use ``$in`` for several). Text must be valid Unicode without NUL; numbers must be finite;
  integers must lie within +/- 2**53 (:data:`MAX_EXACT_INTEGER`), where every engine holds them
  exactly.
* **Types never mix.** Text equals only text, numbers only numbers, booleans only booleans
  (``True`` is not ``1``), ``None`` only a stored ``null``. ``$gt $gte $lt $lte`` compare numbers
  only; a record whose value is text, a boolean or ``null`` never passes them.
* **Numbers** compare as 64-bit floating point (IEEE 754 doubles), the form every engine holds:
  ``3`` equals ``3.0``, and a stored integer beyond +/- 2**53 compares as the double nearest to
  it. A stored integer too large for a double (more than 308 digits) is not a number to filters:
  no ``$eq``, ``$in`` or comparison matches it.
* **Lists** in metadata match element by element, as in MongoDB: ``{"tags": "red"}`` matches
  ``{"tags": ["red", "blue"]}``, and ``{"n": {"$gt": 5}}`` matches ``{"n": [1, 9]}``. Only the
  list's own elements count: lists inside lists, and mappings, never match ``$eq``, ``$in`` or
  a comparison (``$exists`` sees any value).
* **Missing keys** follow MongoDB's rule: ``$ne`` and ``$nin`` are the exact negations of
  ``$eq`` and ``$in``, so a record without the key matches ``{"k": {"$ne": 1}}``; ``$eq``,
  ``$in`` and the comparisons never match a missing key. ``{"k": None}`` matches only a stored
  ``null`` (unlike MongoDB, not a missing key: use ``{"k": {"$exists": False}}`` for that).
  ``$exists`` is true when the key is present, whatever its value (``null`` included).
* **Limits**: a filter is nested at most :data:`MAX_FILTER_DEPTH` levels (the filter itself is
  level 1, as for metadata) and holds at most :data:`MAX_FILTER_VALUES` values in all.

A malformed filter raises :class:`~raeburnmemory.core.errors.InvalidFilterError` whose message
starts with the path of the bad part, such as ``where["$and"][1]["age"]["$gt"]: $gt compares
numbers only, got str 'x'``.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from raeburnmemory.core._where_clauses import (
    COMPARISONS,
    MAX_EXACT_INTEGER,
    MAX_FILTER_DEPTH,
    MAX_FILTER_VALUES,
    MAX_KEY_LENGTH,
    OPERATORS,
    And,
    Clause,
    ClauseWalk,
    Compare,
    Comparison,
    Equal,
    Exists,
    Not,
    OneOf,
    Or,
    Scalar,
    ValueKinds,
)
from raeburnmemory.core.errors import InvalidFilterError

__all__ = [
    "COMPARISONS",
    "MAX_EXACT_INTEGER",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_VALUES",
    "MAX_KEY_LENGTH",
    "OPERATORS",
    "And",
    "Clause",
    "ClauseWalk",
    "Compare",
    "Comparison",
    "Equal",
    "Exists",
    "Not",
    "OneOf",
    "Or",
    "Scalar",
    "ValueKinds",
    "Where",
    "as_number",
    "elements",
    "matches",
]

_COMPARISON_NAMES: dict[str, Comparison] = {name: name for name in COMPARISONS}
_LOGICAL = ("$and", "$or")
_SHOWN = 40  # characters of a key or value quoted in a message


@dataclass(frozen=True)
class Where:
    """A parsed, valid metadata filter: :meth:`parse` makes one, :func:`matches` evaluates it."""

    root: Clause

    @classmethod
    def parse(cls, value: object) -> Where:
        """Check a filter mapping and build its tree; ``InvalidFilterError`` names the bad part."""
        return cls(_Parser().condition(value, "where", 1))

    @classmethod
    def of(cls, value: Where | Mapping[str, Any] | None) -> Where | None:
        """``value`` as a filter: a :class:`Where` as it is, a mapping parsed, ``None`` kept."""
        if value is None or isinstance(value, Where):
            return value
        return cls.parse(value)

    @property
    def everything(self) -> bool:
        """True when the filter lets every record through (it was ``{}``)."""
        return self.root == And(())

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        """Whether a record with this metadata passes the filter (see :func:`matches`)."""
        return _holds(self.root, metadata)

    def to_mapping(self) -> dict[str, Any]:
        """The filter written back as a mapping (explicit operators): ``parse`` gives it back."""
        return _mapping(self.root)


def matches(where: Where | Mapping[str, Any], metadata: Mapping[str, Any]) -> bool:
    """Whether a record with this ``metadata`` passes ``where``: the reference semantics.

    ``where`` may be a :class:`Where` or a filter mapping (parsed first).
    """
    parsed = where if isinstance(where, Where) else Where.parse(where)
    return _holds(parsed.root, metadata)


def as_number(value: object) -> float | None:
    """A stored value as the double filters compare, or ``None`` when it is not a number to them
    (text, booleans, ``null``, containers, non-finite floats, integers beyond a double)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def elements(value: object) -> list[object]:
    """The values a stored value offers to ``$eq``, ``$in`` and comparisons: a list's own
    elements, or the value itself."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _same(stored: object, wanted: Scalar) -> bool:
    """Whether one stored element equals a filter's value under the type rules."""
    if wanted is None:
        return stored is None
    if isinstance(wanted, bool):
        return isinstance(stored, bool) and stored == wanted
    if isinstance(wanted, str):
        return isinstance(stored, str) and stored == wanted
    number = as_number(stored)
    return number is not None and number == float(wanted)


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def _holds(clause: Clause, metadata: Mapping[str, Any]) -> bool:
    if isinstance(clause, And):
        return all(_holds(item, metadata) for item in clause.clauses)
    if isinstance(clause, Or):
        return any(_holds(item, metadata) for item in clause.clauses)
    if isinstance(clause, Not):
        return not _holds(clause.clause, metadata)
    if isinstance(clause, Exists):
        return clause.key in metadata
    if clause.key not in metadata:
        return False
    found = elements(metadata[clause.key])
    if isinstance(clause, Equal):
        return any(_same(item, clause.value) for item in found)
    if isinstance(clause, OneOf):
        return any(_same(item, wanted) for item in found for wanted in clause.values)
    test = _ORDER[clause.op]
    for item in found:
        number = as_number(item)
        if number is not None and test(number, clause.value):
            return True
    return False


def _mapping(clause: Clause) -> dict[str, Any]:
    if isinstance(clause, And):
        if len(clause.clauses) == 0:
            return {}
        return {"$and": [_mapping(item) for item in clause.clauses]}
    if isinstance(clause, Or):
        return {"$or": [_mapping(item) for item in clause.clauses]}
    if isinstance(clause, Not):
        inner = clause.clause
        if isinstance(inner, Equal):
            return {inner.key: {"$ne": inner.value}}
        if isinstance(inner, OneOf):
            return {inner.key: {"$nin": list(inner.values)}}
        return {inner.key: {"$exists": False}}
    if isinstance(clause, Equal):
        return {clause.key: {"$eq": clause.value}}
    if isinstance(clause, OneOf):
        return {clause.key: {"$in": list(clause.values)}}
    if isinstance(clause, Exists):
        return {clause.key: {"$exists": True}}
    return {clause.key: {clause.op: clause.value}}


# -- parsing ---------------------------------------------------------------------------------


def _shown(text: str) -> str:
    quoted = json.dumps(text if len(text) <= _SHOWN else text[:_SHOWN] + "...", ensure_ascii=False)
    return quoted.encode("utf-8", "backslashreplace").decode("utf-8")


def _step(path: str, key: object) -> str:
    return f"{path}[{_shown(key)}]" if isinstance(key, str) else f"{path}[{key}]"


def _got(value: object) -> str:
    """``value`` described for a message: its type, and short scalars themselves."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"str {_shown(value)}"
    if isinstance(value, (bool, int, float)):
        shown = repr(value)
        return f"{type(value).__name__} {shown if len(shown) <= _SHOWN else shown[:_SHOWN] + '...'}"
    return type(value).__name__


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "text must not contain NUL (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"text has a lone surrogate (U+{ord(text[exc.start]):04X} at {exc.start})"
    return None


class _Parser:
    """One parse: it counts the filter's values against :data:`MAX_FILTER_VALUES`."""

    def __init__(self) -> None:
        self.values = 0

    def _count(self, path: str, how_many: int = 1) -> None:
        self.values += how_many
        if self.values > MAX_FILTER_VALUES:
            raise InvalidFilterError(path, f"the filter holds more than {MAX_FILTER_VALUES} values")

    @staticmethod
    def _depth(path: str, depth: int) -> None:
        if depth > MAX_FILTER_DEPTH:
            raise InvalidFilterError(
                path, f"the filter is nested more than {MAX_FILTER_DEPTH} levels deep"
            )

    def condition(self, value: object, path: str, depth: int) -> Clause:
        """A mapping of conditions (each entry must hold)."""
        self._depth(path, depth)
        if not isinstance(value, Mapping):
            raise InvalidFilterError(
                path,
                f'a filter is a mapping of conditions, as in {{"user": "ana"}}, got {_got(value)}',
            )
        clauses: list[Clause] = []
        for key, item in value.items():
            here = _step(path, key)
            if key in _LOGICAL:
                clauses.append(self.logical(key, item, here, depth + 1))
            else:
                self._key(key, path, here)
                clauses.append(self.key_condition(key, item, here, depth + 1))
        return clauses[0] if len(clauses) == 1 else And(tuple(clauses))

    def _key(self, key: object, path: str, here: str) -> None:
        if not isinstance(key, str):
            raise InvalidFilterError(path, f"keys must be text, got {_got(key)}")
        if key.startswith("$"):
            if key in OPERATORS:
                raise InvalidFilterError(
                    here,
                    f'{key} belongs inside a key\'s mapping, as in {{"age": {{"{key}": ...}}}}',
                )
            raise InvalidFilterError(
                here,
                f"unknown operator {_shown(key)[1:-1]}; the operators are "
                + ", ".join(_LOGICAL + OPERATORS)
                + " (metadata keys starting with $ cannot be filtered)",
            )
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidFilterError(
                here, f"a key is at most {MAX_KEY_LENGTH} characters, this one has {len(key)}"
            )
        problem = _text_problem(key)
        if problem is not None:
            raise InvalidFilterError(here, f"the key's {problem}")

    def logical(self, name: str, value: object, path: str, depth: int) -> Clause:
        """``$and`` / ``$or``: a non-empty list of non-empty condition mappings."""
        self._depth(path, depth)
        if not isinstance(value, (list, tuple)):
            raise InvalidFilterError(path, f"{name} needs a list of conditions, got {_got(value)}")
        if not value:
            raise InvalidFilterError(path, f"{name} needs at least one condition")
        clauses: list[Clause] = []
        for index, item in enumerate(value):
            here = f"{path}[{index}]"
            if isinstance(item, Mapping) and not item:
                raise InvalidFilterError(here, f"an empty condition in {name}; leave it out")
            if not isinstance(item, Mapping):
                raise InvalidFilterError(
                    here, f"each condition of {name} is a mapping, got {_got(item)}"
                )
            clauses.append(self.condition(item, here, depth + 1))
        if len(clauses) == 1:
            return clauses[0]
        return And(tuple(clauses)) if name == "$and" else Or(tuple(clauses))

    def key_condition(self, key: str, value: object, path: str, depth: int) -> Clause:
        """A key's bare value (``$eq``) or its mapping of operators."""
        if not isinstance(value, Mapping):
            if isinstance(value, (list, tuple)):
                raise InvalidFilterError(
                    path,
                    "a list is not a value; to match any of several values write "
                    f'{{"$in": [...]}}, got {_got(value)}',
                )
            return Equal(key, self.scalar(value, path))
        self._depth(path, depth)
        if not value:
            raise InvalidFilterError(path, 'an empty mapping; give an operator, as in {"$eq": ...}')
        clauses: list[Clause] = []
        for op, operand in value.items():
            here = _step(path, op)
            clauses.append(self.entry(key, op, operand, path, here, depth + 1))
        return clauses[0] if len(clauses) == 1 else And(tuple(clauses))

    def entry(
        self, key: str, op: object, operand: object, path: str, here: str, depth: int
    ) -> Clause:
        """One ``$op: operand`` entry of a key's mapping."""
        if not isinstance(op, str) or not op.startswith("$"):
            shown = _shown(op) if isinstance(op, str) else _got(op)
            raise InvalidFilterError(
                here if isinstance(op, str) else path,
                f"{shown} is not an operator: filters name top-level metadata keys only (no "
                "nested keys), and a key's mapping holds operators such as $eq or $in",
            )
        if op in _LOGICAL:
            raise InvalidFilterError(
                here, f"{op} combines whole conditions and cannot be used inside a key's mapping"
            )
        if op == "$eq":
            return Equal(key, self.scalar(operand, here))
        if op == "$ne":
            return Not(Equal(key, self.scalar(operand, here)))
        if op in ("$in", "$nin"):
            found = OneOf(key, self.scalars(op, operand, here, depth))
            return found if op == "$in" else Not(found)
        if op == "$exists":
            if not isinstance(operand, bool):
                raise InvalidFilterError(here, f"$exists needs True or False, got {_got(operand)}")
            self._count(here)
            return Exists(key) if operand else Not(Exists(key))
        comparison = _COMPARISON_NAMES.get(op)
        if comparison is not None:
            return Compare(key, comparison, self.number(op, operand, here))
        raise InvalidFilterError(
            here,
            f"unknown operator {_shown(op)[1:-1]}; a key's operators are " + ", ".join(OPERATORS),
        )

    def scalar(self, value: object, path: str) -> Scalar:
        """A value ``$eq``, ``$ne``, ``$in`` and ``$nin`` compare with."""
        self._count(path)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem is not None:
                raise InvalidFilterError(path, problem)
            return value
        if isinstance(value, (int, float)):
            return self._number_value(value, path)
        raise InvalidFilterError(
            path, f"values are text, numbers, True/False or None, got {_got(value)}"
        )

    def scalars(self, op: str, value: object, path: str, depth: int) -> tuple[Scalar, ...]:
        """The list of values of ``$in`` / ``$nin``."""
        self._depth(path, depth)
        if not isinstance(value, (list, tuple)):
            raise InvalidFilterError(path, f"{op} needs a list of values, got {_got(value)}")
        self._count(path, 0)
        return tuple(self.scalar(item, f"{path}[{index}]") for index, item in enumerate(value))

    def number(self, op: str, value: object, path: str) -> float:
        """The operand of a comparison."""
        self._count(path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidFilterError(path, f"{op} compares numbers only, got {_got(value)}")
        return float(self._number_value(value, path))

    @staticmethod
    def _number_value(value: int | float, path: str) -> int | float:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidFilterError(path, f"numbers must be finite, got {_got(value)}")
            return float(value)
        if abs(value) > MAX_EXACT_INTEGER:
            raise InvalidFilterError(
                path,
                f"integers beyond +/-{MAX_EXACT_INTEGER} (2**53) cannot be compared exactly by "
                f"every engine, got {_got(value)}; keep such numbers as text",
            )
        return int(value)
