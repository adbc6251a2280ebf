"""examples(): the number of examples a property test draws follows RAEBURN_TEST_EXAMPLES."""

from __future__ import annotations

import pytest

from raeburnmemory.core.testing.examples import EXAMPLES_VARIABLE, examples


def test_without_the_variable_a_test_draws_what_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXAMPLES_VARIABLE, raising=False)
    assert examples(300) == 300


def test_a_share_scales_every_count_but_never_below_five(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXAMPLES_VARIABLE, "0.25")
    assert (examples(400), examples(25), examples(8)) == (100, 6, 5)


@pytest.mark.parametrize("raw", ["many", "0", "-1"])
def test_a_bad_share_is_named(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(EXAMPLES_VARIABLE, raw)
    with pytest.raises(ValueError, match=EXAMPLES_VARIABLE):
        examples(100)
