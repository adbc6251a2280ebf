"""Metadata filters as SQL over the ``metadata`` column (JSON text), with SQLite's JSON functions.

:func:`where_sql` turns a :class:`~raeburnmemory.core.where.Where` into a boolean SQL expression
and its parameters; it selects exactly the rows :func:`~raeburnmemory.core.where.matches`
selects. Keys are looked up with ``json_each`` and compared as parameters, so any key (dots,
quotes, brackets) is safe and nothing from the filter is ever written into the SQL text. A list
is searched one level deep (a second ``json_each``), the element rule of the filter language.

Numbers: an integer SQLite holds in 64 bits becomes the double the language compares by adding
``0.0`` (a correctly rounded conversion). Every other number (a float, or an integer beyond 64
bits) is read from its own JSON text by :data:`NUMBER_FUNCTION`, a Python function: SQLite's own
text-to-double conversion is not always correctly rounded (SQLite 3.50 reads
``1.5314457441130554e-92`` as the next double up), which would make equal numbers differ.
:func:`register` adds the function to a connection; every connection that runs the SQL needs it.
"""

from __future__ import annotations

import json
import sqlite3
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
    as_number,
)

__all__ = ["NUMBER_FUNCTION", "register", "where_sql"]

#: The SQL function that reads a JSON number's text as the double filters compare.
NUMBER_FUNCTION = "raeburn_json_number"

_SQL_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
# A JSON value (the json_each row {t}, its own JSON text {raw}) as a double, or NULL.
_NUMBER = (
    "(CASE WHEN {t}.type = 'integer' AND typeof({t}.value) = 'integer' THEN {t}.value + 0.0 "
    "WHEN {t}.type IN ('integer', 'real') THEN " + NUMBER_FUNCTION + "({raw}) END)"
)


def json_number(text: str | None) -> float | None:
    """The double a JSON number's text stands for, or ``None`` when filters see no number."""
    if text is None:
        return None
    try:
        return as_number(json.loads(text))
    except ValueError:
        return None


def register(conn: sqlite3.Connection) -> None:
    """Add :data:`NUMBER_FUNCTION` to a connection (the SQL of :func:`where_sql` calls it)."""
    conn.create_function(NUMBER_FUNCTION, 1, json_number, deterministic=True)


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
    own = _predicate(clause, "_wk", f"({column} -> _wk.fullkey)", values)
    inner = _predicate(clause, "_we", "(_wk.value -> _we.fullkey)", values)
    return (
        f"EXISTS (SELECT 1 FROM json_each({column}) AS _wk WHERE _wk.key = ? AND ({own} OR "
        f"(_wk.type = 'array' AND EXISTS (SELECT 1 FROM json_each(_wk.value) AS _we "
        f"WHERE {inner}))))"
    )


def _predicate(clause: Equal | OneOf | Compare, table: str, raw: str, values: list[Any]) -> str:
    """Whether one JSON value (the row ``table`` of a ``json_each``, whose own JSON text is
    ``raw``) passes a key's test."""
    number = _NUMBER.format(t=table, raw=raw)
    if isinstance(clause, Compare):
        values.append(clause.value)
        return f"({number} {_SQL_OPERATORS[clause.op]} ?)"
    return "(" + " OR ".join(_equal_any(table, number, ValueKinds.of(clause), values)) + ")"


def _equal_any(table: str, number: str, wanted: ValueKinds, values: list[Any]) -> list[str]:
    """One test per kind of value among ``wanted`` (texts, numbers, booleans, null)."""
    tests: list[str] = []
    if wanted.texts:
        tests.append(f"({table}.type = 'text' AND {table}.value IN ({_marks(len(wanted.texts))}))")
        values.extend(wanted.texts)
    if wanted.numbers:
        marks = _marks(len(wanted.numbers))
        tests.append(f"({number} IN ({marks}))")
        values.extend(wanted.numbers)
    tests.extend(f"{table}.type = '{'true' if item else 'false'}'" for item in wanted.booleans)
    if wanted.null:
        tests.append(f"{table}.type = 'null'")
    return tests


def _marks(count: int) -> str:
    return ", ".join("?" * count)
