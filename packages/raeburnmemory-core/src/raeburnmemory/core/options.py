"""One parser for the options of stores and vector indexes, for the authors of backends.

A backend declares its options as specs and lets :func:`parse_options` check what it is given::

    SPECS = (Flag("fsync"), Seconds("busy_timeout", 30.0))
    parsed = parse_options("sqlite store", SPECS, options)
    parsed["busy_timeout"]  # a float >= 0

The rules are the same everywhere: an unknown name is refused naming the known ones; numbers
may be given as text (``-o`` values and environment variables arrive as text); seconds must be
finite; every refusal is a :class:`~raeburnmemory.core.errors.ConfigurationError` naming the
option and the value.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from raeburnmemory.core.errors import ConfigurationError

__all__ = [
    "Choice",
    "Flag",
    "OptionSpec",
    "Seconds",
    "Text",
    "WholeNumber",
    "option_names",
    "parse_options",
]

_NUMBER = re.compile(r"\s*\d+(\.\d*)?\s*")


class OptionSpec(Protocol):
    """What :func:`parse_options` needs of a spec: its name, and how to check a value."""

    @property
    def name(self) -> str:
        """The option's name."""
        ...

    def parse(self, given: bool, value: Any) -> Any:
        """The checked value (``given`` is False when the option was left out)."""
        ...


@dataclass(frozen=True)
class Flag:
    """``True`` or ``False``, nothing else (``"yes"`` is refused)."""

    name: str
    default: bool = False

    def parse(self, given: bool, value: Any) -> bool:
        """The flag, or ``ConfigurationError``."""
        if not given:
            return self.default
        if not isinstance(value, bool):
            raise ConfigurationError(f"{self.name} must be True or False, not {value!r}")
        return value


@dataclass(frozen=True)
class Seconds:
    """A finite number of seconds, at least ``minimum``; digit strings such as ``"2.5"`` too."""

    name: str
    default: float
    minimum: float = 0.0

    def parse(self, given: bool, value: Any) -> float:
        """The seconds as a float, or ``ConfigurationError``."""
        if not given:
            return float(self.default)
        number = float(value) if isinstance(value, str) and _NUMBER.fullmatch(value) else value
        if (
            isinstance(number, bool)
            or not isinstance(number, (int, float))
            or not math.isfinite(number)
            or number < self.minimum
        ):
            raise ConfigurationError(
                f"{self.name} must be a number of seconds >= {self.minimum:g}, not {value!r}"
            )
        return float(number)


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from ``low`` to ``high``; ``"8"`` and ``8.0`` count as 8.

    ``default=None`` leaves the option unset when it is not given.
    """

    name: str
    default: int | None
    low: int
    high: int

    def parse(self, given: bool, value: Any) -> int | None:
        """The number, or ``ConfigurationError``."""
        if not given:
            return self.default
        number: int | None = None
        digits = isinstance(value, str) and value.strip().isdigit()
        if digits or (isinstance(value, float) and value.is_integer()):
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        if number is None or not self.low <= number <= self.high:
            raise ConfigurationError(
                f"{self.name} must be a whole number from {self.low} to {self.high}, not {value!r}"
            )
        return number


@dataclass(frozen=True)
class Text:
    """A string, stripped; blank counts as not given. Not given: ``$env``, else ``default``."""

    name: str
    default: str | None = None
    env: str | None = None

    def parse(self, given: bool, value: Any) -> str | None:
        """The text, or ``ConfigurationError`` (naming the variable when it came from there)."""
        source = self.name
        if (not given or value is None) and self.env is not None:
            value = os.environ.get(self.env)
            source = self.env
        if value is None:
            return self.default
        if not isinstance(value, str):
            raise ConfigurationError(f"{source} must be a string, not {type(value).__name__}")
        return value.strip() or self.default


@dataclass(frozen=True)
class Choice:
    """One of a few words."""

    name: str
    choices: tuple[str, ...]
    default: str

    def parse(self, given: bool, value: Any) -> str:
        """The word, or ``ConfigurationError`` listing the choices."""
        if not given:
            return self.default
        if value not in self.choices:
            raise ConfigurationError(
                f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}"
            )
        return str(value)


def option_names(specs: Iterable[OptionSpec]) -> frozenset[str]:
    """The names of ``specs``: what a backend's ``option_names`` says."""
    return frozenset(spec.name for spec in specs)


def parse_options(
    owner: str,
    specs: Iterable[OptionSpec],
    options: Mapping[str, Any] | None,
    *,
    unknown: Literal["refuse", "ignore"] = "refuse",
) -> dict[str, Any]:
    """Every spec's checked value by name (its default when left out).

    ``owner`` names the backend in messages ("sqlite store"). Names no spec declares raise
    ``ConfigurationError`` listing the known ones, unless ``unknown="ignore"``.
    """
    specs = list(specs)
    given = dict(options or {})
    if unknown == "refuse":
        strangers = sorted(set(given) - option_names(specs))
        if strangers:
            known = ", ".join(sorted(option_names(specs))) or "none"
            raise ConfigurationError(
                f"unknown option(s) {', '.join(strangers)} for the {owner}; known options: {known}"
            )
    return {spec.name: spec.parse(spec.name in given, given.get(spec.name)) for spec in specs}
