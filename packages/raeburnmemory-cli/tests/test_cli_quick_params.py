"""The quick check of parameter values gives what Typer's own check gives, errors included."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.main import get_command

from raeburnmemory.cli import app
from raeburnmemory.cli._quick_params import quicken

_VALUES = (
    "5", "05", "-3", "0", "1", "1000", "1001", "99999999999999999999", " 7", "+7", "1_0", "x",
    "", "vector", "KEYWORD", "Hybrid", "json", "SQLite", "numpy", 5, 0, 7.0, True,
)  # fmt: skip


def _params() -> list[tuple[str, Any]]:
    group = get_command(app)
    found = [("raeburnmemory", param) for param in group.params]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found += [(name, param) for param in command.params]
    return [(name, p) for name, p in found if hasattr(p, "type_descriptor")]


def _outcome(check: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        return "value", check._coerce_value(value, param=param, ctx=ctx)
    except Exception as exc:  # the error Typer gives, compared by kind and message
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize(("command", "param"), _params(), ids=lambda v: getattr(v, "name", v))
def test_every_value_comes_out_as_typer_gives_it(command: str, param: Any) -> None:
    from typer._coercion import build_runtime_param

    ctx = typer.Context(get_command(app))
    full = build_runtime_param(param.type_descriptor)
    param._runtime_param = None
    quicken([param])
    quick = param._runtime_param
    assert quick is not None
    for value in _VALUES:
        param._runtime_param = quick  # a value left to Typer's check installs that check
        expected = _outcome(full, value, param, ctx)
        got = _outcome(quick, value, param, ctx)
        assert got == expected, (command, param.name, value)
        assert type(got[1]) is type(expected[1])
