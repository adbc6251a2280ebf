"""The ``export`` command: the graph as node-link JSON or GraphML."""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, Annotated

import typer

from raeburnmemory.cli._settings import settings_of

__all__ = ["ExportFormat", "atomic_text_file", "export"]


class ExportFormat(str, Enum):
    """File formats ``export`` writes."""

    JSON = "json"
    GRAPHML = "graphml"


@contextmanager
def atomic_text_file(path: Path) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` whole, or not at all (temp file, fsync, rename)."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextmanager
def _target(output: str) -> Iterator[IO[str]]:
    if output == "-":
        yield sys.stdout
        sys.stdout.flush()
    else:
        with atomic_text_file(Path(output).expanduser()) as handle:
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
        typer.Option(
            "--format",
            case_sensitive=False,
            help="node-link JSON or GraphML.",
            metavar="[json|graphml]",
        ),
    ] = ExportFormat.JSON,
    session: Annotated[
        str | None, typer.Option("--session", help="Only this session.", metavar="ID")
    ] = None,
) -> None:
    """Write the graph to a file: node-link JSON (networkx, the HTTP API) or GraphML."""
    settings = settings_of(ctx)
    with settings.open_graph(create=False) as mg:
        if session is not None:
            mg.get_session(session)  # NotFoundError rather than an empty file
        counts: tuple[int, int] | None = None
        with _target(output) as handle:
            if fmt is ExportFormat.GRAPHML:
                from raeburnmemory.cli._graphml import write_graphml

                counts = write_graphml(mg.node_link_data(session_id=session), handle)
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
