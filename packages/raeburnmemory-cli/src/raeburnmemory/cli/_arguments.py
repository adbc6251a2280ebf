"""Global options anywhere on the line: ``raeburnmemory stats --json`` means ``--json stats``.

Before the command line is parsed, the global options found after the command are moved in front
of it, values and all. Options of the command itself, and their values, stay where they are, and
everything after ``--`` is left alone.
"""

from __future__ import annotations

from typing import Any

import typer

__all__ = ["GLOBAL_FLAGS", "GLOBAL_VALUE_OPTIONS", "global_options_first"]

#: Global options that take a value.
GLOBAL_VALUE_OPTIONS = frozenset(
    {"--db", "--backend", "--vectors", "--model", "--option", "-o", "--url", "--api-key"}
)
#: Global options that are flags.
GLOBAL_FLAGS = frozenset({"--json"})


def _command_index(args: list[str]) -> int:
    """Where the command's name is: the first word that is no global option or its value."""
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            return len(args)
        if word in GLOBAL_VALUE_OPTIONS:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return index
    return index


def _value_options(command: Any) -> frozenset[str]:
    """The option strings of ``command`` that take a value (so the next word is theirs)."""
    names: set[str] = set()
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") != "option" or getattr(param, "is_flag", False):
            continue
        names.update(param.opts)
        names.update(param.secondary_opts)
    return frozenset(names)


def _global_option(word: str) -> str | None:
    """The global option ``word`` is (``--db=x`` and ``-ok=v`` included), else ``None``."""
    name = word.partition("=")[0]
    if name in GLOBAL_VALUE_OPTIONS or name in GLOBAL_FLAGS:
        return name
    if word.startswith("-o") and not word.startswith("--") and len(word) > 2:
        return "-o"
    return None


def _check_not_an_output_file(command: Any, name: str, value: str) -> None:
    """``export -o out.json``: the output option is ``-O``; ``-o`` takes backend options."""
    if "=" in value or "-O" not in _value_options(command):
        return
    raise typer.BadParameter(
        f"-o is the global --option KEY=VALUE, and {value!r} is no KEY=VALUE; the output "
        f"file is -O/--output: raeburnmemory {name} -O {value}",
        param_hint="'-o'",
    )


def global_options_first(group: Any, ctx: Any, args: list[str]) -> list[str]:
    """``args`` with the global options that follow the command moved in front of it."""
    args = list(args)
    at = _command_index(args)
    if at >= len(args):
        return args
    name = args[at]
    command = group.get_command(ctx, name)
    if command is None:
        return args
    own = _value_options(command)
    moved: list[str] = []
    kept: list[str] = []
    rest = args[at + 1 :]
    index = 0
    while index < len(rest):
        word = rest[index]
        if word == "--":
            kept += rest[index:]
            break
        option = _global_option(word)
        if option is None or word.partition("=")[0] in own:
            kept.append(word)
            if word in own and index + 1 < len(rest):
                kept.append(rest[index + 1])
                index += 1
        elif word in GLOBAL_VALUE_OPTIONS:
            value = rest[index + 1] if index + 1 < len(rest) else None
            if value is None:
                kept.append(word)  # the parser says the value is missing
            else:
                if word == "-o":
                    _check_not_an_output_file(command, name, value)
                moved += [word, value]
                index += 1
        else:
            moved.append(word)
        index += 1
    return [*args[:at], *moved, name, *kept]
