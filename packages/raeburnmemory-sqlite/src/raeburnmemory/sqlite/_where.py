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
from collections.abc import Callable
from typing import Any

from raeburnmemory.core.where import ClauseWalk, Comparison, ValueKinds, Where, as_number

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
    translation = _Translation(column)
    return translation.translate(where.root), translation.values


class _Translation(ClauseWalk[str]):
    """One filter's SQL: the metadata column, and the parameters in the order the SQL uses them."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.values: list[Any] = []

    def all_of(self, parts: list[str]) -> str:
        return "(" + " AND ".join(parts) + ")" if parts else "1"

    def any_of(self, parts: list[str]) -> str:
        return "(" + " OR ".join(parts) + ")" if parts else "0"

    def negated(self, part: str) -> str:
        return f"(NOT {part})"

    def present(self, key: str) -> str:
        self.values.append(key)
        return f"EXISTS (SELECT 1 FROM json_each({self.column}) AS _wk WHERE _wk.key = ?)"

    def compared(self, key: str, op: Comparison, bound: float) -> str:
        def test(table: str, number: str) -> str:
            self.values.append(bound)
            return f"({number} {_SQL_OPERATORS[op]} ?)"

        return self._key_test(key, test)

    def equal(self, key: str, wanted: ValueKinds) -> str:
        if wanted.none:
            return "0"

        def test(table: str, number: str) -> str:
            return "(" + " OR ".join(_equal_any(table, number, wanted, self.values)) + ")"

        return self._key_test(key, test)

    def _key_test(self, key: str, test: Callable[[str, str], str]) -> str:
        """The key's own value, then (for a list) its elements, each passing ``test``, which is
        given the ``json_each`` row and the SQL of its value as a double (``NULL``: no number)."""
        self.values.append(key)
        own = test("_wk", _NUMBER.format(t="_wk", raw=f"({self.column} -> _wk.fullkey)"))
        inner = test("_we", _NUMBER.format(t="_we", raw="(_wk.value -> _we.fullkey)"))
        return (
            f"EXISTS (SELECT 1 FROM json_each({self.column}) AS _wk WHERE _wk.key = ? AND "
            f"({own} OR (_wk.type = 'array' AND EXISTS (SELECT 1 FROM json_each(_wk.value) AS _we "
            f"WHERE {inner}))))"
        )


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
