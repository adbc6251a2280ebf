"""The ``export`` command: the graph as node-link JSON, GraphML, or JSON Lines with vectors."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from raeburnmemory.cli._choices import choice_option
from raeburnmemory.cli._settings import settings_of
from raeburnmemory.core.errors import ExportTargetError

if TYPE_CHECKING:
    from raeburnmemory.memory_graph import MemoryGraph

__all__ = ["ExportFormat", "export"]


class ExportFormat(str, Enum):
    """File formats ``export`` writes."""

    JSON = "json"
    GRAPHML = "graphml"
    JSONL = "jsonl"


@contextmanager
def _target(mg: MemoryGraph, output: str, *, force: bool) -> Iterator[IO[str]]:
    """Standard output for ``-``; else the file, never a store's own, replaced only with force."""
    if output == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path = mg.check_export_target(output)
    if not force and os.path.lexists(path) and not path.is_dir():  # a folder: its own error
        raise ExportTargetError(f"{path} exists already; add --force to replace it")
    with mg.open_export(path) as handle:
        yield handle


def export(
    ctx: typer.Context,
    output: Annotated[
        str,
        typer.Option(
            "--output", "-O", help="File to write ('-' for standard output).", metavar="FILE"
        ),
    ],
    fmt: Annotated[
        ExportFormat,
        choice_option(
            "--format",
            ExportFormat,
            "node-link JSON, GraphML, or JSON Lines with the vectors (for import).",
        ),
    ] = ExportFormat.JSON,
    session: Annotated[
        str | None, typer.Option("--session", help="Only this session.", metavar="ID")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file if it exists.")
    ] = False,
) -> None:
    """Write the graph to a file: node-link JSON (networkx, the HTTP API), GraphML, or JSON Lines
    with the vectors, which import reads back without encoding again."""
    settings = settings_of(ctx)
    if fmt is ExportFormat.JSONL and session is not None:
        raise typer.BadParameter("--format jsonl exports the whole memory", param_hint="--session")
    with settings.open_graph(create=False) as mg:
        if session is not None:
            mg.get_session(session)  # NotFoundError rather than an empty file
        counts: tuple[int, int] | None = None
        with _target(mg, output, force=force) as handle:
            if fmt is ExportFormat.GRAPHML:
                from raeburnmemory.cli._graphml import write_graphml

                counts = write_graphml(mg.node_link_data(session_id=session), handle)
            elif fmt is ExportFormat.JSONL:
                from raeburnmemory.core.jsonl import iter_jsonl

                with settings.output.progress("exporting") as bar:
                    handle.writelines(iter_jsonl(mg, progress=bar))
            else:
                for chunk in mg.iter_node_link_json(session_id=session):
                    handle.write(chunk)
                handle.write("\n")
        interactions = len(mg.get_session(session)) if session else int(mg.stats()["interactions"])
    if output == "-":
        return
    where = str(Path(output).expanduser())
    summary = {"output": where, "format": fmt.value, "interactions": interactions}
    text = (
        f"exported {interactions} interaction{'s' * (interactions != 1)} as {fmt.value} to {where}"
    )
    if counts is not None:
        summary.update(nodes=counts[0], edges=counts[1])
        text += f" ({counts[0]} nodes, {counts[1]} edges)"
    settings.output.message(text, summary)
