"""Typer's check of each parameter's value, left out where the value needs no conversion.

Recent Typer releases convert and check every parameter's value (given or default) with a
pydantic ``TypeAdapter``: a command that runs imports pydantic and builds an adapter per parameter,
about a tenth of a second before anything else happens. The common values need none of it: a
text for ``str``, an ``int`` within its bounds (or its plain decimal digits), an ``Enum`` member
(or a choice's name, which Typer's own choice matching turns into the member). :func:`quicken`
gives each parameter a check that takes those values the way Typer's would and hands any other
to Typer's own check, built when first needed, so errors and their messages stay Typer's. With
a Typer that checks values another way, nothing is changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["quicken"]

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_choice
except ImportError:  # pragma: no cover - a Typer without runtime coercion
    RuntimeParam = None  # type: ignore[assignment,misc]

#: The integers any check takes alike: decimal digits, maybe a minus sign, nothing else.
_PLAIN_INT = re.compile(r"-?[0-9]{1,18}")
#: What :func:`_checked` returns for a value it leaves to Typer.
_TYPERS = object()


def _checked(value: Any, annotation: Any, info: Any, ctx: Any) -> Any:
    """``value`` as Typer's check would give it, or ``_TYPERS`` to leave it to that check."""
    if getattr(info, "parser", None) is not None:
        return _TYPERS
    if annotation is str:
        return value if type(value) is str else _TYPERS
    if annotation is int:
        if type(value) is str and _PLAIN_INT.fullmatch(value):
            value = int(value)
        if type(value) is not int or getattr(info, "clamp", False):
            return _TYPERS
        low, high = getattr(info, "min", None), getattr(info, "max", None)
        if (low is not None and value < low) or (high is not None and value > high):
            return _TYPERS
        return value
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return coerce_cli_choice(
                value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:
            return _TYPERS
    return _TYPERS


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _QuickParam(RuntimeParam):
        """A value needing no conversion as it is; any other through Typer's own check."""

        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            checked = _checked(value, self.annotation, self.parameter_info, ctx)
            if checked is not _TYPERS:
                return checked
            full = build_runtime_param(self.descriptor)
            param._runtime_param = full  # from now on, Typer's own
            return full._coerce_value(value, param=param, ctx=ctx)


def quicken(params: Iterable[Any]) -> None:
    """Give each Typer parameter not checked yet the quick check (nothing on other Typers)."""
    if RuntimeParam is None:
        return
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue
        if descriptor.file_annotation is not None:
            continue
        param._runtime_param = _QuickParam(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
        )
