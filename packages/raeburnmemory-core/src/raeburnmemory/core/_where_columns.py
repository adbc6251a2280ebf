"""Metadata filters over column arrays: a vectorised mask for the in-memory stores and indexes.

:class:`WhereColumns` reads a list of metadata mappings once into numpy arrays, per key and per
kind of value (texts as integer codes, numbers as doubles, booleans, nulls), one entry for a
scalar and one per element of a list, each with its row. :meth:`WhereColumns.mask` then answers
a filter with array operations only, selecting exactly the rows
:func:`~raeburnmemory.core.where.matches` selects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from raeburnmemory.core.where import ClauseWalk, Comparison, ValueKinds, Where, as_number, elements

__all__ = ["WhereColumns"]

Mask = npt.NDArray[np.bool_]
_Rows = npt.NDArray[np.int64]


@dataclass
class _Builder:
    """One key's entries while the columns are read."""

    present: list[int] = field(default_factory=list)
    text_rows: list[int] = field(default_factory=list)
    text_codes: list[int] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    number_rows: list[int] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    bool_rows: list[int] = field(default_factory=list)
    bools: list[bool] = field(default_factory=list)
    null_rows: list[int] = field(default_factory=list)

    def add(self, row: int, value: object) -> None:
        self.present.append(row)
        for item in elements(value):
            if item is None:
                self.null_rows.append(row)
            elif isinstance(item, bool):
                self.bool_rows.append(row)
                self.bools.append(item)
            elif isinstance(item, str):
                self.text_rows.append(row)
                self.text_codes.append(self.codes.setdefault(item, len(self.codes)))
            else:
                number = as_number(item)
                if number is not None:
                    self.number_rows.append(row)
                    self.numbers.append(number)

    def build(self) -> _KeyColumns:
        def rows(values: list[int]) -> _Rows:
            return np.asarray(values, dtype=np.int64)

        return _KeyColumns(
            present=rows(self.present),
            text_rows=rows(self.text_rows),
            text_codes=rows(self.text_codes),
            codes=self.codes,
            number_rows=rows(self.number_rows),
            numbers=np.asarray(self.numbers, dtype=np.float64),
            bool_rows=rows(self.bool_rows),
            bools=np.asarray(self.bools, dtype=np.bool_),
            null_rows=rows(self.null_rows),
        )


@dataclass(frozen=True)
class _KeyColumns:
    """One key's entries: rows where it is present, and its values by kind, each with its row."""

    present: _Rows
    text_rows: _Rows
    text_codes: _Rows
    codes: dict[str, int]
    number_rows: _Rows
    numbers: npt.NDArray[np.float64]
    bool_rows: _Rows
    bools: npt.NDArray[np.bool_]
    null_rows: _Rows

    def equal_rows(self, wanted: ValueKinds) -> list[_Rows]:
        """Rows holding one of the ``wanted`` values (possibly repeated, in several arrays)."""
        found: list[_Rows] = []
        codes = [self.codes[item] for item in wanted.texts if item in self.codes]
        if codes:
            found.append(self.text_rows[np.isin(self.text_codes, codes)])
        if wanted.numbers:
            found.append(self.number_rows[np.isin(self.numbers, wanted.numbers)])
        for flag in wanted.booleans:
            found.append(self.bool_rows[self.bools == flag])
        if wanted.null:
            found.append(self.null_rows)
        return found

    def compare_rows(self, op: Comparison, bound: float) -> _Rows:
        """Rows holding a number that passes the comparison ``op`` against ``bound``."""
        numbers = self.numbers
        if op == "$gt":
            passing = numbers > bound
        elif op == "$gte":
            passing = numbers >= bound
        elif op == "$lt":
            passing = numbers < bound
        else:
            passing = numbers <= bound
        return self.number_rows[passing]


class WhereColumns:
    """The metadata of ``count`` records as column arrays, to filter them all at once."""

    def __init__(self, count: int, keys: dict[str, _KeyColumns]) -> None:
        self._count = count
        self._keys = keys

    @classmethod
    def build(cls, metadata: Sequence[Mapping[str, Any]]) -> WhereColumns:
        """Read every record's metadata (row ``i`` is ``metadata[i]``) into columns."""
        builders: dict[str, _Builder] = {}
        for row, record in enumerate(metadata):
            for key, value in record.items():
                builder = builders.get(key)
                if builder is None:
                    builder = builders[key] = _Builder()
                builder.add(row, value)
        return cls(len(metadata), {key: item.build() for key, item in builders.items()})

    def __len__(self) -> int:
        """How many records (rows) the columns hold."""
        return self._count

    def mask(self, where: Where) -> Mask:
        """A boolean array, one entry per row: True where the record passes ``where``."""
        return _Masks(self._count, self._keys).translate(where.root)


class _Masks(ClauseWalk[Mask]):
    """A filter translated to one boolean array over the rows, each node with array operations."""

    def __init__(self, count: int, keys: dict[str, _KeyColumns]) -> None:
        self._count = count
        self._keys = keys

    def _rows_mask(self, key: str, rows: Callable[[_KeyColumns], Sequence[_Rows]]) -> Mask:
        """True at the ``rows`` of the key's columns (none where the key is never present)."""
        mask = np.zeros(self._count, dtype=np.bool_)
        columns = self._keys.get(key)
        if columns is not None:
            for found in rows(columns):
                mask[found] = True
        return mask

    def all_of(self, parts: list[Mask]) -> Mask:
        mask = np.ones(self._count, dtype=np.bool_)
        for part in parts:
            mask &= part
        return mask

    def any_of(self, parts: list[Mask]) -> Mask:
        mask = np.zeros(self._count, dtype=np.bool_)
        for part in parts:
            mask |= part
        return mask

    def negated(self, part: Mask) -> Mask:
        return ~part

    def present(self, key: str) -> Mask:
        return self._rows_mask(key, lambda columns: [columns.present])

    def compared(self, key: str, op: Comparison, bound: float) -> Mask:
        return self._rows_mask(key, lambda columns: [columns.compare_rows(op, bound)])

    def equal(self, key: str, wanted: ValueKinds) -> Mask:
        return self._rows_mask(key, lambda columns: columns.equal_rows(wanted))
