"""Hypothesis strategies for metadata filters: random metadata and random valid filters.

Values are drawn from small pools so that filters and records often meet (equal texts, numbers
equal as doubles but written differently, booleans beside ``0`` and ``1``), plus the edges of the
number rules: integers around 2**53 and 2**63, beyond 64 bits and beyond a double. Importing this
module needs hypothesis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from raeburnmemory.core.where import MAX_EXACT_INTEGER, Where, matches

__all__ = [
    "EXAMPLES",
    "EXAMPLE_RECORDS",
    "assert_selects_as_matches",
    "filter_keys",
    "filters",
    "metadata",
    "metadata_values",
    "scalars",
]

#: Keys records and filters share: plain, dotted, quoted, bracketed, empty, non-ASCII.
KEYS = ("user", "n", "tags", "a.b", 'q"x', "[0]", "", "ключ", "x\\y")
_TEXTS = ("ana", "bob", "", "Ana", "1", "true", "null", "ä b")
_EXACT_NUMBERS = (0, 1, -1, 3, 0.0, -0.0, 0.5, 1.0, 3.0, -2.5, 1e300, MAX_EXACT_INTEGER)
_EDGE_INTEGERS = (
    MAX_EXACT_INTEGER + 1,
    -MAX_EXACT_INTEGER - 1,
    2**63 - 1,
    2**63,
    -(2**63),
    2**64 + 1,
    10**30,
    2**1024 - 2**970 - 1,  # the largest integer a double still holds (rounded)
    2**1024 - 2**970,  # the smallest that overflows a double
    -(10**400),
)
_EDGE_FLOATS = (2.0**60, 9007199254740992.0, 1.7976931348623157e308, 5e-324)

_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=4)
_filter_number = st.one_of(
    st.sampled_from(_EXACT_NUMBERS),
    st.integers(-MAX_EXACT_INTEGER, MAX_EXACT_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
)


def scalars() -> st.SearchStrategy[Any]:
    """Values a filter may compare with (text, numbers within the exact range, bools, None)."""
    return st.one_of(
        st.sampled_from(_TEXTS),
        _text,
        _filter_number,
        st.booleans(),
        st.none(),
    )


def metadata_values() -> st.SearchStrategy[Any]:
    """A stored value: a scalar (any number size), a list (possibly nested) or a mapping."""
    scalar = st.one_of(
        scalars(),
        st.sampled_from(_EDGE_INTEGERS + _EDGE_FLOATS),
        st.integers(),
    )
    inner = st.one_of(
        scalar, st.lists(scalar, max_size=2), st.dictionaries(_text, scalar, max_size=2)
    )
    return st.one_of(
        scalar, scalar, st.lists(inner, max_size=4), st.dictionaries(_text, scalar, max_size=2)
    )


def filter_keys() -> st.SearchStrategy[str]:
    """Keys a filter may name (never starting with ``$``)."""
    return st.one_of(st.sampled_from(KEYS), _text.filter(lambda key: not key.startswith("$")))


def metadata() -> st.SearchStrategy[dict[str, Any]]:
    """One record's metadata."""
    return st.dictionaries(st.sampled_from(KEYS), metadata_values(), max_size=4)


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    operand = st.one_of(
        scalars(),
        st.fixed_dictionaries({"$eq": scalars()}),
        st.fixed_dictionaries({"$ne": scalars()}),
        st.fixed_dictionaries({"$in": st.lists(scalars(), max_size=3)}),
        st.fixed_dictionaries({"$nin": st.lists(scalars(), max_size=3)}),
        st.fixed_dictionaries({"$exists": st.booleans()}),
        st.dictionaries(
            st.sampled_from(("$gt", "$gte", "$lt", "$lte")), _filter_number, min_size=1
        ),
    )
    return st.dictionaries(filter_keys(), operand, min_size=1, max_size=2)


def filters() -> st.SearchStrategy[dict[str, Any]]:
    """A valid filter mapping: key conditions combined with ``$and`` / ``$or`` a few levels deep."""
    return st.recursive(
        _leaf(),
        lambda inner: st.one_of(
            st.fixed_dictionaries({"$and": st.lists(inner, min_size=1, max_size=3)}),
            st.fixed_dictionaries({"$or": st.lists(inner, min_size=1, max_size=3)}),
        ),
        max_leaves=6,
    )


#: Records for :data:`EXAMPLES` (their ids are their positions).
EXAMPLE_RECORDS: list[dict[str, Any]] = [
    {"user": "ana", "n": 2},
    {"user": "bob", "n": 3.0},
    {"user": ["ana", "eve"], "flag": True},
    {"flag": 1},
    {"user": None},
    {"n": [9, 3], 'q"x': ["b", 2]},
    {"n": MAX_EXACT_INTEGER + 1, "tags": [["ana"]]},
    {"n": 10**400, "tags": {"user": "ana"}},
]
_ALL = set(range(len(EXAMPLE_RECORDS)))
#: Filters and the positions of :data:`EXAMPLE_RECORDS` each selects, one rule of the language each.
EXAMPLES: list[tuple[dict[str, Any], set[int]]] = [
    ({"user": "ana"}, {0, 2}),  # a list matches by its elements
    ({"user": {"$ne": "ana"}}, _ALL - {0, 2}),  # $ne matches records without the key
    ({"n": 3}, {1, 5}),  # 3 equals 3.0
    ({"n": {"$gt": 2, "$lt": 4}}, {1, 5}),  # each operator may hold on another element
    ({"flag": True}, {2}),  # True is not 1
    ({"flag": 1}, {3}),
    ({"user": None}, {4}),  # null, not a missing key
    ({"user": {"$exists": False}}, {3, 5, 6, 7}),
    ({'q"x': {"$in": ["a", 2]}}, {5}),
    ({"$or": [{"user": "bob"}, {"n": {"$lte": 1}}]}, {1}),
    ({}, _ALL),
    ({"user": {"$in": []}}, set()),
    ({"user": {"$nin": []}}, _ALL),
    ({"n": MAX_EXACT_INTEGER}, {6}),  # 2**53 + 1 compares as the double 2**53
    ({"n": {"$gt": 1e300}}, set()),  # 10**400 is beyond a double: not a number to filters
    ({"n": {"$ne": 3}}, _ALL - {1, 5}),
    ({"tags": "ana"}, set()),  # neither a list inside a list nor a mapping matches
    ({"tags": {"$exists": True}}, {6, 7}),
]


def assert_selects_as_matches(
    select: Callable[[Where], set[int]],
    records: Sequence[dict[str, Any]],
    mappings: Sequence[dict[str, Any]],
) -> None:
    """Check that ``select`` (an engine's answer: the positions in ``records`` of the records a
    filter selects) agrees with :func:`~raeburnmemory.core.where.matches` on every filter."""
    for mapping in mappings:
        where = Where.parse(mapping)
        expected = {row for row, meta in enumerate(records) if matches(where, meta)}
        assert select(where) == expected, mapping
