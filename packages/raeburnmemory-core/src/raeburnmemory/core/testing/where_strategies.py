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

from raeburnmemory.core.where import MAX_EXACT_INTEGER, Where, as_number, elements, matches

__all__ = [
    "EXAMPLES",
    "EXAMPLE_RECORDS",
    "assert_selects_as_matches",
    "cases",
    "filter_keys",
    "filters",
    "metadata",
    "metadata_values",
    "records",
    "scalars",
]

#: Keys records and filters share, most often (plain, dotted, quoted, empty).
KEYS = ("user", "n", "a.b", 'q"x', "")
#: Keys they share less often (brackets, non-ASCII, a backslash, an operator-like key).
ODD_KEYS = ("[0]", "ключ", "x\\y", "$x")
_TEXTS = ("ana", "bob", "")
_NUMBERS = (0, 1, 3, 0.5, MAX_EXACT_INTEGER)
# the same numbers written otherwise, and one that rounds to 2**53
_STORED_NUMBERS = (3.0, 1.0, -0.0, MAX_EXACT_INTEGER + 1)
_EDGE_INTEGERS = (
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
_pool_number = st.sampled_from(_NUMBERS)
_pool = st.sampled_from((*_TEXTS, *_NUMBERS, True, False, None))
_stored_pool = st.sampled_from((*_TEXTS, *_NUMBERS, *_STORED_NUMBERS, True, False, None))
_filter_number = st.one_of(
    _pool_number,
    _pool_number,
    st.integers(-MAX_EXACT_INTEGER, MAX_EXACT_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
)


def scalars() -> st.SearchStrategy[Any]:
    """Values a filter may compare with: mostly the shared pool, sometimes anything valid."""
    return st.one_of(_pool, _pool, _pool, _text, _filter_number)


def metadata_values() -> st.SearchStrategy[Any]:
    """A stored value: a scalar (any number size), a list (possibly nested) or a mapping."""
    scalar = st.one_of(
        _stored_pool,
        _stored_pool,
        _stored_pool,
        _text,
        st.sampled_from(_EDGE_INTEGERS + _EDGE_FLOATS),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    inner = st.one_of(
        scalar, scalar, st.lists(scalar, max_size=2), st.dictionaries(_text, scalar, max_size=2)
    )
    return st.one_of(
        scalar,
        scalar,
        scalar,
        st.lists(inner, max_size=4),
        st.dictionaries(_text, scalar, max_size=2),
    )


def _keys(*extra: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    common = st.sampled_from(KEYS)
    return st.one_of(common, common, common, common, st.sampled_from(ODD_KEYS), *extra)


def filter_keys() -> st.SearchStrategy[str]:
    """Keys a filter may name (never starting with ``$``): mostly the shared ones."""
    return _keys(_text).filter(lambda key: not key.startswith("$"))


def metadata() -> st.SearchStrategy[dict[str, Any]]:
    """One record's metadata (seldom empty)."""
    filled = st.dictionaries(_keys(), metadata_values(), min_size=1, max_size=4)
    return st.one_of(filled, filled, filled, filled, st.just({}))


def records() -> st.SearchStrategy[list[dict[str, Any]]]:
    """The metadata of a few records (enough that a filter often selects some, not all)."""
    return st.lists(metadata(), min_size=4, max_size=12)


_OPERATORS = ("bare", "$eq", "$ne", "$in", "$nin", "$exists", "$gt", "$gte", "$lt", "$lte", "range")
_PAIR_OPERATORS = ("bare", "$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte")


def _operand(
    op: str, values: st.SearchStrategy[Any], numbers: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    if op == "bare":
        return values
    if op in ("$eq", "$ne"):
        return st.fixed_dictionaries({op: values})
    if op in ("$in", "$nin"):
        return st.fixed_dictionaries({op: st.lists(values, max_size=3)})
    if op == "$exists":
        return st.fixed_dictionaries({op: st.booleans()})
    if op == "range":
        return st.fixed_dictionaries({"$gt": numbers, "$lte": numbers})
    return st.fixed_dictionaries({op: numbers})


def _pair_condition(pair: tuple[str, Any], op: str) -> dict[str, Any]:
    """A condition on a key a record holds, with a value it holds there."""
    key, value = pair
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if op == "bare" or (op.startswith(("$g", "$l")) and not is_number):
        return {key: value}
    if op in ("$in", "$nin"):
        return {key: {op: [value]}}
    return {key: {op: value}}


def filters(
    keys: st.SearchStrategy[str] | None = None,
    values: st.SearchStrategy[Any] | None = None,
    numbers: st.SearchStrategy[Any] | None = None,
    pairs: st.SearchStrategy[tuple[str, Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """A valid filter mapping: key conditions (each operator as likely as the others) combined
    with ``$and`` / ``$or`` a few levels deep, naming ``keys`` and comparing with ``values``
    (``numbers`` for comparisons), by default the shared pools; with ``pairs`` (a key and a value
    some record holds there), half the conditions test such a pair."""
    keys = filter_keys() if keys is None else keys
    values = scalars() if values is None else values
    numbers = _filter_number if numbers is None else numbers
    one = st.builds(
        lambda key, operand: {key: operand},
        keys,
        st.sampled_from(_OPERATORS).flatmap(lambda op: _operand(op, values, numbers)),
    )
    if pairs is not None:
        one = st.one_of(one, st.builds(_pair_condition, pairs, st.sampled_from(_PAIR_OPERATORS)))
    leaf = st.one_of(one, one, one, one, st.builds(lambda a, b: {**a, **b}, one, one))

    def combined(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
        either = st.fixed_dictionaries({"$or": st.lists(inner, min_size=1, max_size=3)})
        both = st.fixed_dictionaries({"$and": st.lists(inner, min_size=1, max_size=2)})
        return st.one_of(either, either, both)

    return st.recursive(leaf, combined, max_leaves=5)


def _filter_values(records: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """The (key, value) pairs of ``records`` a filter may name, a list's elements each."""
    pairs: list[tuple[str, Any]] = []
    for meta in records:
        for key, value in meta.items():
            if key.startswith("$"):
                continue
            for item in elements(value):
                if item is None or isinstance(item, (bool, str)):
                    pairs.append((key, item))
                    continue
                number = as_number(item)
                if number is not None and abs(number) <= MAX_EXACT_INTEGER:
                    # an integer a double does not hold exactly is named by its double
                    pairs.append((key, item if number == item else number))
    return pairs


def _mostly(found: list[Any], fallback: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if not found:
        return fallback
    present = st.sampled_from(found)
    return st.one_of(present, present, present, fallback)


def cases() -> st.SearchStrategy[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Records and a few filters drawn mostly from their own keys and values, so that filters
    select some records and not others more often than by chance."""

    def with_filters(
        found: list[dict[str, Any]],
    ) -> st.SearchStrategy[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        pairs = _filter_values(found)
        numbers = [
            value
            for _, value in pairs
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        ]
        wanted = filters(
            _mostly(sorted({key for key, _ in pairs}), filter_keys()),
            _mostly([value for _, value in pairs], scalars()),
            _mostly(numbers, _filter_number),
            st.sampled_from(pairs) if pairs else None,
        )
        return st.tuples(st.just(found), st.lists(wanted, min_size=1, max_size=4))

    return records().flatmap(with_filters)


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
    # SQLite 3.50 reads the first one's text as the next double up; Qdrant Edge stores the
    # second one as the next double down
    {"x": [1.5314457441130554e-92, 3.4183537179374242e-99]},
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
    ({"user": {"$exists": False}}, {3, 5, 6, 7, 8}),
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
    ({"x": 1.5314457441130554e-92}, {8}),  # equal doubles are equal, however an engine reads
    ({"x": {"$gt": 1.5314457441130554e-92}}, set()),
    ({"x": 3.4183537179374242e-99}, {8}),
    ({"x": {"$lt": 3.4183537179374242e-99}}, set()),
    ({"x": {"$gte": 3.4183537179374242e-99, "$lte": 3.4183537179374242e-99}}, {8}),
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
