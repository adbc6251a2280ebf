"""Options that take one of an enum's values, in any case, listed as ``[a|b|c]`` in the help."""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer

__all__ = ["choice_option"]


def choice_option(flag: str, choices: type[Enum], help: str, **extra: Any) -> Any:
    """The option ``flag`` taking a value of ``choices`` (case-insensitive), with ``help``;
    ``extra`` goes to ``typer.Option`` as it is."""
    values = "|".join(str(choice.value) for choice in choices)
    return typer.Option(flag, case_sensitive=False, help=help, metavar=f"[{values}]", **extra)
