"""Metadata filters as SQL over the ``metadata`` column (JSON text), with SQLite's JSON functions.

:func:`where_sql` turns a :class:`~raeburnmemory.core.where.Where` into a boolean SQL expression
and its parameters; it selects exactly the rows :func:`~raeburnmemory.core.where.matches`
selects. Keys are looked up with ``json_each`` and compared as parameters, so any key (dots,
quotes, brackets) is safe and nothing from the filter is ever written into the SQL text. A list
is searched one level deep (a second ``json_each``), the element rule of the filter language.

Numbers: ``json_each`` gives integers as ``INTEGER`` (beyond 64 bits as ``REAL``, infinite past
the double range); adding ``0.0`` turns each into the double the language compares, and a range
test keeps only finite values.
"""

from __future__ import annotations

import sys
from typing import Any

from raeburnmemory.core.where import (
    And,
    Clause,
    Compare,
    Equal,
    Exists,
    Not,
    OneOf,
    Or,
    ValueKinds,
    Where,
)

__all__ = ["where_sql"]

_SQL_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_NUMBER = "{t}.type IN ('integer', 'real')"
_LARGEST = sys.float_info.max


def where_sql(where: Where, column: str = "metadata") -> tuple[str, list[Any]]:
    """A boolean SQL expression selecting the rows whose ``column`` passes ``where``, and its
    parameters (``?`` placeholders, in order).

    ``column`` is the column (or ``alias.column``) holding the metadata as JSON text; it is
    written into the SQL as it is, so it must come from code, never from input.
    """
    values: list[Any] = []
    return _clause(where.root, column, values), values


def _clause(clause: Clause, column: str, values: list[Any]) -> str:
    if isinstance(clause, And):
        if not clause.clauses:
            return "1"
        return "(" + " AND ".join(_clause(item, column, values) for item in clause.clauses) + ")"
    if isinstance(clause, Or):
        if not clause.clauses:
            return "0"
        return "(" + " OR ".join(_clause(item, column, values) for item in clause.clauses) + ")"
    if isinstance(clause, Not):
        return f"(NOT {_clause(clause.clause, column, values)})"
    if isinstance(clause, Exists):
        values.append(clause.key)
        return f"EXISTS (SELECT 1 FROM json_each({column}) AS _wk WHERE _wk.key = ?)"
    if isinstance(clause, OneOf) and not clause.values:
        return "0"
    # the key's own value, then (for a list) its elements, each tested by the same predicate
    values.append(clause.key)
    own = _predicate(clause, "_wk", values)
    inner = _predicate(clause, "_we", values)
    return (
        f"EXISTS (SELECT 1 FROM json_each({column}) AS _wk WHERE _wk.key = ? AND ({own} OR "
        f"(_wk.type = 'array' AND EXISTS (SELECT 1 FROM json_each(_wk.value) AS _we "
        f"WHERE {inner}))))"
    )


def _predicate(clause: Equal | OneOf | Compare, table: str, values: list[Any]) -> str:
    """Whether one JSON value (the row ``table`` of a ``json_each``) passes a key's test."""
    if isinstance(clause, Compare):
        values.extend((-_LARGEST, _LARGEST, clause.value))
        return (
            f"({_NUMBER.format(t=table)} AND {table}.value + 0.0 BETWEEN ? AND ? "
            f"AND {table}.value + 0.0 {_SQL_OPERATORS[clause.op]} ?)"
        )
    return "(" + " OR ".join(_equal_any(table, ValueKinds.of(clause), values)) + ")"


def _equal_any(table: str, wanted: ValueKinds, values: list[Any]) -> list[str]:
    """One test per kind of value among ``wanted`` (texts, numbers, booleans, null)."""
    tests: list[str] = []
    if wanted.texts:
        tests.append(f"({table}.type = 'text' AND {table}.value IN ({_marks(len(wanted.texts))}))")
        values.extend(wanted.texts)
    if wanted.numbers:
        marks = _marks(len(wanted.numbers))
        tests.append(f"({_NUMBER.format(t=table)} AND {table}.value + 0.0 IN ({marks}))")
        values.extend(wanted.numbers)
    tests.extend(f"{table}.type = '{'true' if item else 'false'}'" for item in wanted.booleans)
    if wanted.null:
        tests.append(f"{table}.type = 'null'")
    return tests


def _marks(count: int) -> str:
    return ", ".join("?" * count)
