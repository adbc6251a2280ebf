"""Metadata filters as SQL over ``jsonb``, with containment for equality so a GIN index serves it.

:func:`where_sql` turns a :class:`~raeburnmemory.core.where.Where` into a boolean condition and
its named parameters; it selects exactly the rows :func:`~raeburnmemory.core.where.matches`
selects. The metadata expression must be ``jsonb``: the store's column is ``json``, so it is
given as ``raeburn_metadata(metadata)`` (:data:`METADATA`), which the expression index
:data:`METADATA_INDEX` covers.

* Equality with text, booleans, ``null`` and numbers within +/- 2**53 is containment:
  ``metadata @> {"k": v}`` (the value itself) or ``metadata @> {"k": [v]}`` (a list holding it).
  ``jsonb`` compares numbers by value (``3`` is ``3.0``), and within 2**53 that agrees with the
  doubles the language compares. Both forms are answered by a ``jsonb_path_ops`` GIN index.
* Comparisons, and equality with larger numbers, turn the stored number (or each number of a
  list) into a double, as the language does; a stored integer too large for a double is no
  number (its ``float8`` would overflow), so it is left out first.
* ``$exists`` is the ``?`` operator (a top-level key).

Keys and values only ever travel as parameters.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from psycopg import sql

from raeburnmemory.core.where import MAX_EXACT_INTEGER, ClauseWalk, Comparison, ValueKinds, Where

__all__ = ["METADATA", "METADATA_FUNCTION", "METADATA_INDEX", "where_sql"]

#: The metadata of ``interactions`` as ``jsonb`` (the column itself is ``json``), through the
#: function the schema's layout 2 creates: ``NULL`` for metadata holding the escape ``\u0000``,
#: which ``jsonb`` cannot hold (no filter selects such a record).
METADATA = sql.SQL("raeburn_metadata(metadata)")
#: The statement creating the function of :data:`METADATA` (in the schema's layout 2).
METADATA_FUNCTION = (
    "CREATE FUNCTION raeburn_metadata(value json) RETURNS jsonb LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT CASE WHEN strpos(value::text, '\\u0000') = 0 "
    "THEN value::jsonb END $$"
)
#: The statement creating the index that serves equality filters on :data:`METADATA` (in the
#: schema's layout 2).
METADATA_INDEX = (
    "CREATE INDEX IF NOT EXISTS interactions_metadata ON interactions "
    "USING gin (raeburn_metadata(metadata) jsonb_path_ops)"
)

_SQL_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
# Integers from here up round past the largest double: Python's float() refuses them and
# PostgreSQL's float8 overflows, so they are not numbers to filters.
_OVERFLOW = 2**1024 - 2**970
# Each element of the key's value (the value itself when it is not a list), as a double or
# NULL; CASE, unlike AND, decides the order, so no cast ever sees text or an overflowing number.
_NUMBERS = (
    "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof({m} -> {k}) "
    "WHEN 'array' THEN {m} -> {k} ELSE jsonb_build_array({m} -> {k}) END) AS _we(v) "
    "WHERE (CASE WHEN jsonb_typeof(_we.v) <> 'number' THEN NULL "
    "WHEN abs(_we.v::numeric) >= {limit} THEN NULL "
    "ELSE (_we.v::numeric)::float8 END) {op} {value}::float8)"
)


def where_sql(
    where: Where, metadata: sql.Composable = METADATA, prefix: str = "w"
) -> tuple[sql.Composable, dict[str, Any]]:
    """A boolean condition selecting the rows whose ``metadata`` (a ``jsonb`` expression) passes
    ``where``, and its named parameters (``prefix`` followed by a number)."""
    params: dict[str, Any] = {}
    names = (f"{prefix}{n}" for n in itertools.count())

    def param(value: Any) -> sql.Composable:
        name = next(names)
        params[name] = value
        return sql.Placeholder(name)

    return _Translation(metadata, param).translate(where.root), params


class _Translation(ClauseWalk[sql.Composable]):
    """One filter's translation: the metadata expression and the parameter maker."""

    def __init__(self, metadata: sql.Composable, param: Any) -> None:
        self.m = metadata
        self.param = param

    def all_of(self, parts: list[sql.Composable]) -> sql.Composable:
        if not parts:
            return sql.SQL("TRUE")
        return sql.SQL("({})").format(sql.SQL(" AND ").join(parts))

    def any_of(self, parts: list[sql.Composable]) -> sql.Composable:
        if not parts:
            return sql.SQL("FALSE")
        return sql.SQL("({})").format(sql.SQL(" OR ").join(parts))

    def negated(self, part: sql.Composable) -> sql.Composable:
        return sql.SQL("(NOT {})").format(part)

    def present(self, key: str) -> sql.Composable:
        return sql.SQL("({} ? {})").format(self.m, self.param(key))

    def compared(self, key: str, op: Comparison, bound: float) -> sql.Composable:
        return self.numbers(key, _SQL_OPERATORS[op], bound)

    def equal(self, key: str, wanted: ValueKinds) -> sql.Composable:
        """Containment for each value it can serve, double comparisons for the rest."""
        small = [n for n in wanted.numbers if abs(n) < MAX_EXACT_INTEGER]
        contained: list[Any] = [*wanted.texts, *wanted.booleans, *small]
        if wanted.null:
            contained.append(None)
        tests = [self.contains(key, value) for value in contained]
        large = [n for n in wanted.numbers if abs(n) >= MAX_EXACT_INTEGER]
        tests.extend(self.numbers(key, "=", n) for n in large)
        if not tests:
            return sql.SQL("FALSE")
        return sql.SQL("({})").format(sql.SQL(" OR ").join(tests))

    def contains(self, key: str, value: Any) -> sql.Composable:
        """The key holds ``value``, or a list holding it."""
        return sql.SQL("({m} @> {one}::jsonb OR {m} @> {listed}::jsonb)").format(
            m=self.m,
            one=self.param(_dumps({key: value})),
            listed=self.param(_dumps({key: [value]})),
        )

    def numbers(self, key: str, op: str, value: float) -> sql.Composable:
        """The key holds a number (or a list with one) that passes ``op`` against ``value``."""
        return sql.SQL(_NUMBERS).format(
            m=self.m,
            k=self.param(key),
            limit=sql.SQL(str(_OVERFLOW)),
            op=sql.SQL(op),
            value=self.param(value),
        )


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, allow_nan=False)
