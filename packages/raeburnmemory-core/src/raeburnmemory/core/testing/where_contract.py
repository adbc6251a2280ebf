"""The contract of an engine's metadata-filter translation: on the real engine, it selects what
:func:`~raeburnmemory.core.where.matches` selects, on the documented examples and on random
filters. Importing this module needs pytest and hypothesis.

An engine's tests subclass :class:`WhereTranslationContract` and provide one fixture,
``select_in``: given records' metadata, it puts them in the engine (row ``i`` is ``records[i]``)
and returns a function from a :class:`~raeburnmemory.core.where.Where` to the rows it selects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings

from raeburnmemory.core.testing.examples import examples
from raeburnmemory.core.testing.where_strategies import (
    EXAMPLE_RECORDS,
    EXAMPLES,
    assert_selects_as_matches,
    cases,
)
from raeburnmemory.core.where import Where

__all__ = ["SelectIn", "WhereTranslationContract"]

#: What the ``select_in`` fixture is: records in, the engine's selection out.
SelectIn = Callable[[list[dict[str, Any]]], Callable[[Where], set[int]]]


class WhereTranslationContract:
    """Tests every metadata-filter translation passes; subclasses provide ``select_in``."""

    #: How many random cases the property test draws (scaled by ``RAEBURN_TEST_EXAMPLES``).
    random_cases: ClassVar[int] = 300

    def test_selects_what_matches_selects(self, select_in: SelectIn) -> None:
        @settings(
            max_examples=examples(self.random_cases),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(cases())
        def check(case: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
            records, wanted = case
            assert_selects_as_matches(select_in(records), records, wanted)

        check()

    @pytest.mark.parametrize(("mapping", "expected"), EXAMPLES)
    def test_examples(
        self, select_in: SelectIn, mapping: dict[str, Any], expected: set[int]
    ) -> None:
        assert select_in(EXAMPLE_RECORDS)(Where.parse(mapping)) == expected
