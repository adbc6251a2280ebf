"""An ordered mapping over a column of keys whose values are made when first asked for.

Opening a large store should cost little when only a few records are needed: the snapshot's
index already lists every prompt id in order, so :class:`ColumnMapping` keeps that list as its
first keys and makes a key's value from its position only when the value is read. It behaves as
the ``dict`` it replaces would after the same insertions and deletions: iteration in insertion
order (the column's keys first, then the keys set since), a value set for a present key keeping
the key's place, a deleted key forgotten, ``reversed`` views. The position of each key of the
column is looked up in a ``dict`` built on the first lookup by key; walking the keys or values
in order needs none.
"""

from __future__ import annotations

from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    MutableMapping,
    Sequence,
    ValuesView,
)
from typing import Generic, TypeVar, cast

__all__ = ["ColumnMapping"]

V = TypeVar("V")


class _Gone:
    """The mark of a deleted key of the column."""

    __slots__ = ()


_GONE = _Gone()
_MISSING = object()


class ColumnMapping(MutableMapping[str, V], Generic[V]):
    """``str`` keys in insertion order: a column's keys (values made from their position when
    first read), then the keys set since (kept as a ``dict`` keeps them).

    ``keys`` must hold no key twice (the caller checks); the list is kept, never changed.
    ``make(position)`` makes the value of ``keys[position]``; with ``keep`` each value made is
    kept (so it is the same object each time it is read), without it the value is made again.
    """

    __slots__ = ("_gone", "_index", "_keep", "_keys", "_later", "_make", "_set", "_slots")

    def __init__(
        self,
        keys: Sequence[str] = (),
        make: Callable[[int], V] | None = None,
        *,
        keep: bool = True,
    ) -> None:
        self._keys = keys
        self._make = make
        self._keep = keep
        #: per position of the column: None (made when read), _GONE, or the value
        self._slots: list[object] = [None] * len(keys)
        self._gone = 0  # how many keys of the column are deleted
        self._set = False  # whether a key of the column was given a value
        self._index: dict[str, int] | None = None
        #: the keys set that are not in the column, in the order they were set
        self._later: dict[str, V] = {}

    # -- the column --------------------------------------------------------------------------------

    @property
    def untouched(self) -> bool:
        """Whether the mapping still holds the column's keys alone, none deleted or set."""
        return not self._gone and not self._set and not self._later

    def _key_index(self) -> dict[str, int]:
        index = self._index
        if index is None:
            index = self._index = dict(zip(self._keys, range(len(self._keys)), strict=True))
        return index

    def index_is_unique(self) -> bool:
        """Build the lookup by key now; whether no key appears twice in the column."""
        return len(self._key_index()) == len(self._keys)

    def _position(self, key: object) -> int | None:
        """The position of ``key`` in the column when it is there and not deleted."""
        index = self._index
        if index is None:
            if not self._keys:
                return None
            index = self._key_index()
        position = index.get(key) if isinstance(key, str) else None
        if position is None or self._slots[position] is _GONE:
            return None
        return position

    def _value_at(self, position: int) -> V:
        value = self._slots[position]
        if value is None:
            assert self._make is not None
            value = self._make(position)
            if self._keep:
                self._slots[position] = value
        return cast(V, value)

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The ``keys`` the mapping does not hold, in their order (at once when the keys are the
        column's, unchanged)."""
        if self.untouched and isinstance(keys, list) and keys == self._keys:
            return []
        return [key for key in keys if key not in self]

    def values_or_positions(self, keys: Iterable[str]) -> list[V | int]:
        """For each of ``keys``, its value when it was set or made (and kept), else its position
        in the column (nothing is made); ``KeyError`` for a key not held."""
        later, slots = self._later, self._slots
        index = self._key_index() if self._keys else {}
        found: list[V | int] = []
        for key in keys:
            value = later.get(key, _MISSING) if later else _MISSING
            if value is _MISSING:
                position = index.get(key)
                if position is None or slots[position] is _GONE:
                    raise KeyError(key)
                value = slots[position]
                if value is None:
                    value = position
            found.append(cast("V | int", value))
        return found

    def walk(self) -> Iterator[tuple[int, V | None]]:
        """``(position, value)`` of each key held, in order: for a key of the column its
        position and its value, or ``None`` when none was made yet (nothing is made); for a
        key set since, ``-1`` and its value."""
        gone = _GONE
        for position, value in enumerate(self._slots):
            if value is not gone:
                yield position, cast("V | None", value)
        for value in self._later.values():
            yield -1, value

    # -- the mapping -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys) - self._gone + len(self._later)

    def __contains__(self, key: object) -> bool:
        return key in self._later or (bool(self._keys) and self._position(key) is not None)

    def __getitem__(self, key: str) -> V:
        later = self._later.get(key, _MISSING)
        if later is not _MISSING:
            return cast(V, later)
        position = self._position(key)
        if position is None:
            raise KeyError(key)
        return self._value_at(position)

    def get(self, key: str, default: object = None) -> V | None:  # type: ignore[override]
        """The value of ``key``, or ``default`` (no exception raised for a missing key: a
        batch asks for every one of its new keys)."""
        later = self._later.get(key, _MISSING)
        if later is not _MISSING:
            return cast(V, later)
        position = self._position(key) if self._keys else None
        if position is None:
            return cast("V | None", default)
        return self._value_at(position)

    def __setitem__(self, key: str, value: V) -> None:
        if self._keys and key not in self._later:
            position = self._position(key)
            if position is not None:  # a key of the column keeps its place
                self._slots[position] = value
                self._set = True
                return
        self._later[key] = value

    def __delitem__(self, key: str) -> None:
        if self._later.pop(key, _MISSING) is not _MISSING:
            return
        position = self._position(key)
        if position is None:
            raise KeyError(key)
        self._slots[position] = _GONE
        self._gone += 1

    def pop(self, key: str, default: object = _MISSING) -> V:
        """Remove ``key`` and return its value (``default`` when it is not held)."""
        later = self._later.pop(key, _MISSING)
        if later is not _MISSING:
            return cast(V, later)
        position = self._position(key) if self._keys else None
        if position is None:
            if default is _MISSING:
                raise KeyError(key)
            return cast(V, default)
        value = self._value_at(position)
        self._slots[position] = _GONE
        self._gone += 1
        return value

    def clear(self) -> None:
        """Forget every key."""
        self._keys = ()
        self._slots = []
        self._gone = 0
        self._set = False
        self._index = None
        self._later = {}

    def __iter__(self) -> Iterator[str]:
        if not self._gone:
            yield from self._keys
        else:
            gone = _GONE
            for key, value in zip(self._keys, self._slots, strict=True):
                if value is not gone:
                    yield key
        yield from self._later

    def __reversed__(self) -> Iterator[str]:
        yield from reversed(self._later)
        slots = self._slots
        for position in range(len(self._keys) - 1, -1, -1):
            if slots[position] is not _GONE:
                yield self._keys[position]

    def _values(self) -> Iterator[V]:
        gone = _GONE
        slots = self._slots
        for position, value in enumerate(slots):
            if value is None:
                yield self._value_at(position)
            elif value is not gone:
                yield cast(V, value)
        yield from self._later.values()

    def _reversed_values(self) -> Iterator[V]:
        yield from reversed(self._later.values())
        slots = self._slots
        for position in range(len(slots) - 1, -1, -1):
            if slots[position] is not _GONE:
                yield self._value_at(position)

    def keys(self) -> KeysView[str]:
        """The keys, in insertion order."""
        return KeysView(self)

    def values(self) -> _Values[V]:
        """The values, in insertion order (each made as it is reached)."""
        return _Values(self)

    def items(self) -> _Items[V]:
        """``(key, value)`` pairs, in insertion order."""
        return _Items(self)

    def __repr__(self) -> str:
        return f"ColumnMapping({len(self)} keys)"


class _Values(ValuesView[V]):
    """The values of a :class:`ColumnMapping`, walked without a lookup by key."""

    _mapping: ColumnMapping[V]

    def __iter__(self) -> Iterator[V]:
        return self._mapping._values()

    def __reversed__(self) -> Iterator[V]:
        return self._mapping._reversed_values()


class _Items(ItemsView[str, V]):
    """The items of a :class:`ColumnMapping`, walked without a lookup by key."""

    _mapping: ColumnMapping[V]

    def __iter__(self) -> Iterator[tuple[str, V]]:
        mapping = self._mapping
        return zip(iter(mapping), mapping._values(), strict=True)

    def __reversed__(self) -> Iterator[tuple[str, V]]:
        mapping = self._mapping
        return zip(reversed(mapping), mapping._reversed_values(), strict=True)
