"""Hypothesis strategies for metadata filters: random metadata and random valid filters.

Values are drawn from small pools so that filters and records often meet (equal texts, numbers
equal as doubles but written differently, booleans beside ``0`` and ``1``), plus the edges of the
number rules: integers around 2**53 and 2**63, beyond 64 bits and beyond a double. Importing this
module needs hypothesis.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from raeburnmemory.core.where import MAX_EXACT_INTEGER

__all__ = ["filter_keys", "filters", "metadata", "metadata_values", "scalars"]

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

_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=4
)
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
