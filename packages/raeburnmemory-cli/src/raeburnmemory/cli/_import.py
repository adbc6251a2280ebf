"""The ``import`` command: interactions from a JSON Lines file, in batches.

Three kinds of file are told apart by their content: the JSON Lines export (a header line, then
interactions with their vectors), the node-link JSON of ``export``, both read by
:func:`raeburnmemory.core.importing.import_file`, and JSON Lines of interactions without a header
(the shapes of :mod:`raeburnmemory.cli._jsonl`).

Re-running an import adds nothing twice: interactions stored already with the same content are
skipped. Each batch is written all or nothing; a line that cannot be read or added is reported
with its number and the rest still loads. With ``--strict`` every line is checked first and the
whole file is written as one batch, so nothing is written if one line is bad.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, TypeAlias

import typer

from raeburnmemory.cli._filters import OnConflict, on_conflict_option
from raeburnmemory.cli._output import Output, print_error
from raeburnmemory.cli._settings import Settings, settings_of
from raeburnmemory.core.errors import (
    ConflictError,
    InvalidInteractionError,
    NotFoundError,
    StoreNotFoundError,
)

if TYPE_CHECKING:
    from raeburnmemory.core.model import Interaction
    from raeburnmemory.memory_graph import MemoryGraph

__all__ = ["ImportReport", "import_file"]

_Record: TypeAlias = "tuple[int, Interaction]"


@dataclass
class ImportReport:
    """What an import did, line by line."""

    source: str
    added: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: The ``--on-conflict`` choice: with ``"replace"`` the added include replaced ones.
    on_conflict: str = "error"

    def fail(self, line: int, message: str) -> None:
        """Record (and print at once) a line that was not imported."""
        self.errors.append((line, message))
        print_error(f"{self.source}:{line}: {message}")

    def as_dict(self) -> dict[str, Any]:
        """The report for ``--json``."""
        return {
            "file": self.source,
            "added": self.added,
            "skipped": self.skipped,
            "failed": len(self.errors),
            "errors": [{"line": line, "error": message} for line, message in self.errors],
        }

    def summary(self) -> str:
        """One line for people."""
        added = "added or replaced" if self.on_conflict == "replace" else "added"
        text = f"{self.source}: {self.added} {added}, {self.skipped} skipped (stored already)"
        if self.errors:
            text += f", {len(self.errors)} line{'s' * (len(self.errors) != 1)} not imported"
        return text


def _count_lines(stream: IO[bytes]) -> int:
    """How many lines a seekable file holds (read in large blocks, then rewound)."""
    lines = 0
    last = b"\n"
    while block := stream.read(1 << 20):
        lines += block.count(b"\n")
        last = block[-1:]
    stream.seek(0)
    return lines + (last != b"\n")


@contextmanager
def _open(source: str) -> Iterator[tuple[IO[bytes], int]]:
    """The file and how many lines it has (0: unknown, for standard input)."""
    if source == "-":
        yield sys.stdin.buffer, 0
        return
    path = Path(source).expanduser()
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a JSON Lines file", str(path))
    with path.open("rb") as stream:
        yield stream, _count_lines(stream)


def _read(stream: IO[bytes], report: ImportReport) -> Iterator[_Record]:
    from raeburnmemory.cli._jsonl import LineError, iter_lines, parse_line

    for number, _, text in iter_lines(stream):
        if text is None:
            report.fail(number, "not UTF-8 text")
            continue
        try:
            record = parse_line(text)
        except LineError as exc:
            report.fail(number, str(exc))
            continue
        if record is not None:
            yield number, record


def _add(mg: MemoryGraph, batch: list[_Record], report: ImportReport) -> None:
    choice = report.on_conflict
    try:
        added = mg.batch_add([record for _, record in batch], on_conflict=choice)
    except (ConflictError, InvalidInteractionError):
        for number, record in batch:  # find the lines at fault; the others still load
            try:
                added_one = mg.batch_add([record], on_conflict=choice)
            except (ConflictError, InvalidInteractionError) as exc:
                report.fail(number, str(exc))
            else:
                report.added += len(added_one)
                report.skipped += 1 - len(added_one)
        return
    report.added += len(added)
    report.skipped += len(batch) - len(added)


def _check_conflicts(settings: Settings, records: list[_Record], report: ImportReport) -> None:
    """Lines giving a prompt id with other content than an earlier line or than the store, or
    a response id an earlier line gave to another prompt."""
    try:
        mg = settings.open_graph(create=False)
    except StoreNotFoundError:
        mg = None  # a new store: only the file can contradict itself
    seen: dict[str, _Record] = {}
    owners: dict[str, _Record] = {}
    try:
        for number, record in records:
            first, earlier = seen.setdefault(record.prompt_id, (number, record))
            if first != number:
                if not earlier.same_content(record):
                    message = f"prompt {record.prompt_id!r} has other content on line {first}"
                    report.fail(number, message)
                continue
            owner_line, owner = (number, record)
            if record.response_id is not None:
                owner_line, owner = owners.setdefault(record.response_id, (number, record))
            if owner.prompt_id != record.prompt_id:
                report.fail(
                    number,
                    f"response {record.response_id!r} belongs to prompt {owner.prompt_id!r} "
                    f"on line {owner_line}",
                )
                continue
            if mg is None:
                continue
            try:
                stored = mg.get_interaction(record.prompt_id)
            except NotFoundError:
                continue
            if not stored.same_content(record) and report.on_conflict == "error":
                report.fail(number, f"prompt {record.prompt_id!r} is stored with other content")
    finally:
        if mg is not None:
            mg.close()


def _add_all_or_nothing(mg: MemoryGraph, records: list[_Record], report: ImportReport) -> None:
    """Write every record as one batch; on a refusal, report the line at fault."""
    try:
        added = mg.batch_add([record for _, record in records], on_conflict=report.on_conflict)
    except (ConflictError, InvalidInteractionError) as exc:
        message = str(exc)
        at_fault = next(
            (number for number, record in records if repr(record.prompt_id) in message),
            records[-1][0],
        )
        report.fail(at_fault, message)
        return
    report.added += len(added)
    report.skipped += len(records) - len(added)


def _export_kind(file: str) -> str | None:
    """``"jsonl"`` or ``"node-link"`` for a file ``export`` wrote, else ``None``."""
    if file == "-" or not Path(file).expanduser().is_file():
        return None  # standard input, or the reading below says what is wrong
    from raeburnmemory.core.importing import detect_export_format

    return detect_export_format(file)


def _import_export(
    settings: Settings,
    file: str,
    *,
    batch_size: int,
    strict: bool,
    reembed: bool | None,
    on_conflict: OnConflict,
) -> None:
    """Import a file ``export`` wrote; ``--strict`` writes it as one batch, all or nothing."""
    from raeburnmemory.core.importing import import_file as import_export

    if on_conflict is OnConflict.REPLACE:
        raise typer.BadParameter(
            "replace is for JSON Lines of interactions; a file export wrote is imported with "
            "error (the default) or skip",
            param_hint="'--on-conflict'",
        )
    out = settings.output
    report = ImportReport(file, on_conflict=on_conflict.value)
    with (
        settings.open_graph(create=True) as mg,
        out.progress(f"importing {Path(file).name}") as bar,
    ):
        result = import_export(
            mg,
            file,
            reembed=reembed,
            progress=bar,
            on_conflict="error" if strict and on_conflict is OnConflict.ERROR else "skip",
            batch_size=sys.maxsize if strict else batch_size,
        )
    report.added, report.skipped = result.added, result.skipped
    if on_conflict is OnConflict.SKIP:  # left out as asked: stored already, with other content
        report.skipped += len(result.conflicts)
    for where, message in result.conflicts if on_conflict is OnConflict.ERROR else ():
        if result.format == "jsonl":
            report.fail(where, message)
        else:  # node-link JSON has no lines to name: the interaction's place in the file
            report.errors.append((where, message))
            print_error(
                f"{file}: interaction {where}: {message}" if where else f"{file}: {message}"
            )
    details = {"format": result.format, "links": result.links, "reembedded": result.reembedded}
    out.message(report.summary(), {**report.as_dict(), **details})
    if report.errors:
        raise typer.Exit(1)


def import_file(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            help="JSON Lines file of interactions ('-' for standard input).", metavar="FILE"
        ),
    ],
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            min=1,
            help="Interactions written per batch (all or nothing each).",
            metavar="N",
        ),
    ] = 1000,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Check every line first; write the file as one batch or nothing."
        ),
    ] = False,
    reembed: Annotated[
        bool | None,
        typer.Option(
            "--reembed/--keep-vectors",
            help="For a file export wrote: encode every prompt again, or refuse to (the "
            "default keeps its vectors when they come from this memory's encoder).",
            show_default=False,
        ),
    ] = None,
    on_conflict: Annotated[OnConflict, on_conflict_option("A line")] = OnConflict.ERROR,
) -> None:
    """Import interactions: a file export wrote (JSON Lines with vectors, or node-link JSON), or
    JSON Lines of interactions, one object a line; those stored already are skipped."""
    settings = settings_of(ctx)
    kind = _export_kind(file)
    if kind is not None:
        _import_export(
            settings,
            file,
            batch_size=batch_size,
            strict=strict,
            reembed=reembed,
            on_conflict=on_conflict,
        )
        return
    if reembed is not None:
        raise typer.BadParameter(
            "only for a file export wrote (JSON Lines with a header, or node-link JSON)",
            param_hint="--reembed/--keep-vectors",
        )
    out = settings.output
    report = ImportReport("<stdin>" if file == "-" else file, on_conflict=on_conflict.value)
    description = f"importing {Path(report.source).name}"
    with _open(file) as (stream, lines), out.progress(description) as bar:
        records = _read(stream, report)
        if strict:  # every check before the first write, then the whole file as one batch
            checked = list(records)
            _check_conflicts(settings, checked, report)
            if report.errors:
                _give_up(out, report)
            with settings.open_graph(create=True) as mg:
                if checked:
                    _add_all_or_nothing(mg, checked, report)
            if report.errors:
                _give_up(out, report)
        else:
            with settings.open_graph(create=True) as mg:
                batch: list[_Record] = []
                for item in records:
                    batch.append(item)
                    if len(batch) >= batch_size:
                        _add(mg, batch, report)
                        bar(batch[-1][0], lines)  # lines read and written, so far
                        batch = []
                if batch:
                    _add(mg, batch, report)
        bar(lines, lines)
    out.message(report.summary(), report.as_dict())
    if report.errors:
        raise typer.Exit(1)


def _give_up(out: Output, report: ImportReport) -> None:
    bad = len(report.errors)
    out.message(
        f"{report.source}: {bad} bad line{'s' * (bad != 1)}; nothing was written (--strict)",
        {**report.as_dict(), "written": False},
    )
    raise typer.Exit(1)
