"""How commands print: JSON with ``--json``, rich tables on a terminal, plain lines otherwise.

Results go to standard output; errors, warnings, notes and progress bars go to standard error,
so a pipe only ever carries results. Plain lines are tab-separated rows (tables) or
``key: value`` lines (records), with tabs, newlines and backslashes escaped so that one record
is always one line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported when a command first prints: --help stays quick
    from rich.console import Console
    from rich.text import Text

__all__ = [
    "Column",
    "Output",
    "ProgressCallback",
    "is_terminal",
    "plain",
    "print_error",
    "print_warning",
]

#: ``progress(done, total)``: the shape of every progress callback of the library.
ProgressCallback = Callable[[int, int], None]

_PROGRAM = "raeburnmemory"
# Characters of free text a terminal table shows before cutting it short.
_PREVIEW = 160


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def plain(value: object) -> str:
    """A value as one line of text: escaped tabs and newlines, ``-`` for nothing."""
    text = _text(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal, decided as rich decides it (``TTY_COMPATIBLE``,
    ``FORCE_COLOR``, then ``isatty``) without importing rich."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def _one_line(message: str) -> str:
    return " ".join(message.split())


def print_error(message: str) -> None:
    """Write ``raeburnmemory: error: <message>`` as one line on standard error."""
    sys.stderr.write(f"{_PROGRAM}: error: {_one_line(message)}\n")
    sys.stderr.flush()


def print_warning(message: str) -> None:
    """Write ``raeburnmemory: warning: <message>`` as one line on standard error."""
    sys.stderr.write(f"{_PROGRAM}: warning: {_one_line(message)}\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class Column:
    """One column of a table: the row key it shows and its header."""

    key: str
    header: str
    justify: str = "left"
    #: Free text: wraps in the width the other columns leave, and long values are cut short
    #: in terminal tables (plain lines and JSON keep them whole).
    text: bool = False


class Output:
    """The printer of one command run, chosen from ``--json`` and whether stdout is a terminal."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode

    # Consoles are made per run, so they write to the streams of this run.
    @cached_property
    def _console(self) -> Console:
        from rich.console import Console

        return Console(highlight=False)

    @cached_property
    def _err_console(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False)

    @property
    def rich(self) -> bool:
        """Whether results are drawn as rich tables (a terminal, and no ``--json``)."""
        return not self.json_mode and is_terminal(sys.stdout)

    def json(self, data: object) -> None:
        """Print ``data`` as JSON (one document, indented)."""
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()

    def line(self, text: str) -> None:
        """Print one line of text as is."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def message(self, text: str, data: object) -> None:
        """Print ``text`` for people, or ``data`` with ``--json``."""
        if self.json_mode:
            self.json(data)
        else:
            self.line(text)

    def note(self, text: str) -> None:
        """A hint for people, on standard error; never mixed into results."""
        if self.json_mode:
            return
        if is_terminal(sys.stderr):
            self._err_console.print(text, style="dim", markup=False, highlight=False)
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Mapping[str, Any]],
        *,
        data: object = None,
        title: str | None = None,
        empty: str = "nothing to show",
    ) -> None:
        """Print rows: a rich table, tab-separated lines, or JSON (``data``, else the rows)."""
        if self.json_mode:
            self.json(list(rows) if data is None else data)
            return
        if not self.rich:
            for row in rows:
                self.line("\t".join(plain(row.get(column.key)) for column in columns))
            return
        if not rows:
            self.note(empty)
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(
                column.header,
                justify=column.justify,  # type: ignore[arg-type]
                no_wrap=not column.text,
                overflow="fold" if column.text else "ellipsis",
                min_width=10 if column.text else None,
            )
        for row in rows:
            table.add_row(*(_cell(row.get(column.key), column.text) for column in columns))
        self._console.print(table)

    def record(self, fields: Mapping[str, Any], *, data: object = None) -> None:
        """Print one record: a two-column table, ``key: value`` lines, or JSON."""
        if self.json_mode:
            self.json(dict(fields) if data is None else data)
            return
        if not self.rich:
            for key, value in fields.items():
                self.line(f"{key}: {plain(value)}")
            return
        from rich.table import Table

        table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, value in fields.items():
            table.add_row(key, _cell(value))
        self._console.print(table)

    @contextmanager
    def progress(self, description: str, unit: str = "interactions") -> Iterator[ProgressCallback]:
        """A ``progress(done, total)`` callback drawing a bar on a terminal's standard error.

        The bar counts ``unit`` with their rate and the time left; it stays up, saying it is
        finishing, until the ``with`` block ends (so after the last write, not the last item).
        ``total`` 0 means unknown.
        """
        if self.json_mode or not is_terminal(sys.stderr):
            yield _ignore_progress
            return
        from raeburnmemory.cli._progress import make_progress

        bar = make_progress(self._err_console, unit)
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            finishing = total > 0 and done >= total
            bar.update(
                task,
                completed=done,
                total=total or None,
                description=f"{description} (finishing)" if finishing else description,
            )

        with bar:
            yield update


def _ignore_progress(done: int, total: int) -> None:
    """The progress callback when no bar is drawn."""


def _cell(value: object, preview: bool = False) -> Text:
    from rich.text import Text

    text = _text(value)
    if preview and len(text) > _PREVIEW:
        text = text[: _PREVIEW - 1] + "…"
    return Text(text)  # never read as rich markup
