"""The metadata filter language: parsing, its error messages, the reference evaluation, and the
column arrays that must select what the reference selects."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from raeburnmemory.core._where_columns import WhereColumns
from raeburnmemory.core.errors import InvalidFilterError, RaeburnMemoryError, SearchError
from raeburnmemory.core.testing.examples import examples
from raeburnmemory.core.testing.where_strategies import (
    EXAMPLE_RECORDS,
    EXAMPLES,
    cases,
    filters,
)
from raeburnmemory.core.where import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_VALUES,
    And,
    Compare,
    Equal,
    Exists,
    Not,
    OneOf,
    Or,
    Where,
    matches,
)


@pytest.mark.parametrize(("mapping", "expected"), EXAMPLES)
def test_examples_by_the_reference(mapping: dict[str, Any], expected: set[int]) -> None:
    where = Where.parse(mapping)
    assert {row for row, meta in enumerate(EXAMPLE_RECORDS) if matches(where, meta)} == expected


@pytest.mark.parametrize(("mapping", "expected"), EXAMPLES)
def test_examples_by_the_columns(mapping: dict[str, Any], expected: set[int]) -> None:
    mask = WhereColumns.build(EXAMPLE_RECORDS).mask(Where.parse(mapping))
    assert set(mask.nonzero()[0].tolist()) == expected


@settings(max_examples=examples(400), deadline=None)
@given(cases())
def test_columns_select_what_matches_selects(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    records, mappings = case
    columns = WhereColumns.build(records)
    assert len(columns) == len(records)
    for mapping in mappings:
        where = Where.parse(mapping)
        expected = [matches(where, meta) for meta in records]
        assert columns.mask(where).tolist() == expected, mapping


@settings(max_examples=examples(300), deadline=None)
@given(filters())
def test_to_mapping_parses_back_to_the_same_filter(mapping: dict[str, Any]) -> None:
    where = Where.parse(mapping)
    assert Where.parse(where.to_mapping()) == where


def test_parse_builds_the_tree() -> None:
    where = Where.parse(
        {
            "user": "ana",
            "$or": [{"n": {"$gt": 3, "$lte": 9}}, {"tags": {"$nin": ["a", None]}}],
            "seen": {"$exists": False},
        }
    )
    assert where.root == And(
        (
            Equal("user", "ana"),
            Or(
                (
                    And((Compare("n", "$gt", 3.0), Compare("n", "$lte", 9.0))),
                    Not(OneOf("tags", ("a", None))),
                )
            ),
            Not(Exists("seen")),
        )
    )


def test_values_of_different_kinds_are_different_clauses() -> None:
    assert Equal("k", 1) != Equal("k", True)
    assert Equal("k", 1) == Equal("k", 1.0)
    assert hash(Equal("k", 1)) == hash(Equal("k", 1.0))
    assert OneOf("k", (0,)) != OneOf("k", (False,))


def test_empty_filter_matches_everything() -> None:
    where = Where.parse({})
    assert where.everything
    assert matches(where, {})
    assert not Where.parse({"a": 1}).everything


def test_of_accepts_a_where_a_mapping_or_none() -> None:
    where = Where.parse({"a": 1})
    assert Where.of(where) is where
    assert Where.of({"a": 1}) == where
    assert Where.of(None) is None


def test_matches_accepts_a_mapping() -> None:
    assert matches({"user": {"$in": ["ana", "bob"]}}, {"user": "bob"})


def _error(mapping: object) -> str:
    with pytest.raises(InvalidFilterError) as caught:
        Where.parse(mapping)
    return str(caught.value)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ([1], "where: a filter is a mapping of conditions, as in"),
        ({3: 1}, "where: keys must be text, got int 3"),
        (
            {"$and": [{"x": 1}, {"age": {"$gt": [1]}}]},
            'where["$and"][1]["age"]["$gt"]: $gt compares numbers only, got list',
        ),
        ({"age": {"$lt": "9"}}, 'where["age"]["$lt"]: $lt compares numbers only, got str "9"'),
        ({"age": {"$gte": True}}, "$gte compares numbers only, got bool True"),
        ({"a": {"b": 1}}, 'where["a"]["b"]: "b" is not an operator: filters name top-level'),
        ({"a": [1, 2]}, 'where["a"]: a list is not a value; to match any of several values'),
        ({"$gt": 1}, 'where["$gt"]: $gt belongs inside a key\'s mapping'),
        ({"$nor": []}, 'where["$nor"]: unknown operator $nor; the operators are $and, $or'),
        ({"a": {"$regex": "x"}}, 'where["a"]["$regex"]: unknown operator $regex'),
        ({"a": {}}, 'where["a"]: an empty mapping; give an operator'),
        ({"$and": []}, 'where["$and"]: $and needs at least one condition'),
        ({"$or": {"a": 1}}, 'where["$or"]: $or needs a list of conditions, got dict'),
        ({"$or": [{"a": 1}, {}]}, 'where["$or"][1]: an empty condition in $or; leave it out'),
        ({"$and": ["a"]}, 'where["$and"][0]: each condition of $and is a mapping, got str'),
        ({"a": {"$and": [{"b": 1}]}}, 'where["a"]["$and"]: $and combines whole conditions'),
        ({"a": 2**60}, 'where["a"]: integers beyond +/-9007199254740992 (2**53)'),
        ({"a": float("nan")}, 'where["a"]: numbers must be finite, got float nan'),
        ({"a": {"$ne": float("inf")}}, 'where["a"]["$ne"]: numbers must be finite'),
        ({"a": {"$exists": 1}}, 'where["a"]["$exists"]: $exists needs True or False, got int 1'),
        ({"a": {"$in": "ab"}}, 'where["a"]["$in"]: $in needs a list of values, got str "ab"'),
        ({"a": {"$nin": [1, {}]}}, 'where["a"]["$nin"][1]: values are text, numbers, True/False'),
        ({"a": "x\x00"}, 'where["a"]: text must not contain NUL (U+0000)'),
        ({"a": "\ud800"}, 'where["a"]: text has a lone surrogate (U+D800 at 0)'),
        ({"\ud800": 1}, "the key's text has a lone surrogate"),
        ({"k" * 1025: 1}, "a key is at most 1024 characters, this one has 1025"),
        ({"a": object()}, 'where["a"]: values are text, numbers, True/False or None, got object'),
    ],
)
def test_error_messages_name_the_bad_part(mapping: object, message: str) -> None:
    assert message in _error(mapping)


def test_error_is_a_search_error_and_a_value_error() -> None:
    with pytest.raises(InvalidFilterError) as caught:
        Where.parse({"a": {"$gt": "x"}})
    assert isinstance(caught.value, SearchError)
    assert isinstance(caught.value, RaeburnMemoryError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.path == 'where["a"]["$gt"]'
    assert caught.value.problem == '$gt compares numbers only, got str "x"'


def test_long_keys_are_shortened_in_messages() -> None:
    message = _error({"k" * 100: {"$gt": "x"}})
    assert '["' + "k" * 40 + '..."]' in message
    assert "k" * 41 not in message


def _nested(levels: int) -> dict[str, Any]:
    mapping: dict[str, Any] = {"a": 1}
    for _ in range(levels):
        mapping = {"$and": [mapping]}
    return mapping


def test_depth_limit() -> None:
    # each $and adds two levels (its list and the mapping inside)
    allowed = (MAX_FILTER_DEPTH - 1) // 2
    assert Where.parse(_nested(allowed)).root == Equal("a", 1)
    message = _error(_nested(allowed + 1))
    assert f"the filter is nested more than {MAX_FILTER_DEPTH} levels deep" in message


def test_depth_limit_is_not_a_recursion_error() -> None:
    assert "nested more than" in _error(_nested(5000))


def test_value_limit() -> None:
    assert Where.parse({"a": {"$in": list(range(MAX_FILTER_VALUES))}})
    message = _error({"a": {"$in": list(range(MAX_FILTER_VALUES + 1))}})
    assert f'where["a"]["$in"][{MAX_FILTER_VALUES}]: the filter holds more than' in message
