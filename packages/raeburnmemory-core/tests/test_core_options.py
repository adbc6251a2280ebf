"""One option parser for every backend: the same rules, the same messages."""

from __future__ import annotations

import math

import pytest

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.options import (
    Choice,
    Flag,
    Seconds,
    Text,
    WholeNumber,
    option_names,
    parse_options,
)

SPECS = (
    Flag("fsync"),
    Seconds("timeout", 10.0),
    WholeNumber("size", 5, 1, 100),
    WholeNumber("depth", None, 1, 9),
    Text("url", env="RAEBURN_TEST_OPTION_URL"),
    Choice("kind", ("flat", "hnsw"), "flat"),
)


def test_left_out_options_take_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAEBURN_TEST_OPTION_URL", raising=False)
    assert parse_options("test store", SPECS, None) == {
        "fsync": False,
        "timeout": 10.0,
        "size": 5,
        "depth": None,
        "url": None,
        "kind": "flat",
    }
    assert option_names(SPECS) == {"fsync", "timeout", "size", "depth", "url", "kind"}


def test_unknown_names_are_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_options("test store", SPECS, {"pool": 3, "fsync": True, "zeta": 1})
    assert str(caught.value) == (
        "unknown option(s) pool, zeta for the test store; "
        "known options: depth, fsync, kind, size, timeout, url"
    )
    assert parse_options("test index", SPECS, {"pool": 3}, unknown="ignore")["size"] == 5


def test_numbers_may_be_given_as_text() -> None:
    parsed = parse_options("s", SPECS, {"timeout": " 2.5 ", "size": "8", "depth": 3.0})
    assert (parsed["timeout"], parsed["size"], parsed["depth"]) == (2.5, 8, 3)
    assert parse_options("s", SPECS, {"timeout": 0})["timeout"] == 0.0


@pytest.mark.parametrize("value", [math.nan, math.inf, -1, "soon", "nan", "inf", True, None])
def test_seconds_must_be_finite_and_not_negative(value: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout must be a number of seconds >= 0"):
        parse_options("s", SPECS, {"timeout": value})


@pytest.mark.parametrize("value", [0, 101, 2.5, "2.5", "-3", "many", True, None])
def test_whole_numbers_stay_in_their_range(value: object) -> None:
    with pytest.raises(ConfigurationError, match="size must be a whole number from 1 to 100"):
        parse_options("s", SPECS, {"size": value})


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_a_flag_is_true_or_false(value: object) -> None:
    with pytest.raises(ConfigurationError, match="fsync must be True or False"):
        parse_options("s", SPECS, {"fsync": value})


def test_a_choice_lists_the_choices() -> None:
    assert parse_options("s", SPECS, {"kind": "hnsw"})["kind"] == "hnsw"
    with pytest.raises(ConfigurationError, match="kind must be one of flat, hnsw, not 'ivf'"):
        parse_options("s", SPECS, {"kind": "ivf"})


def test_text_is_stripped_and_falls_back_to_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAEBURN_TEST_OPTION_URL", " http://from-env ")
    assert parse_options("s", SPECS, {})["url"] == "http://from-env"
    assert parse_options("s", SPECS, {"url": None})["url"] == "http://from-env"
    assert parse_options("s", SPECS, {"url": " http://given "})["url"] == "http://given"
    assert parse_options("s", SPECS, {"url": "  "})["url"] is None  # blank: unset, no fallback
    with pytest.raises(ConfigurationError, match="url must be a string, not int"):
        parse_options("s", SPECS, {"url": 6333})
    monkeypatch.setenv("RAEBURN_TEST_OPTION_URL", "")
    assert parse_options("s", SPECS, {})["url"] is None
