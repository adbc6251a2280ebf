"""Commands that look after a whole store: ``stats``, ``reindex``, ``migrate``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from raeburnmemory.cli._choices import choice_option
from raeburnmemory.cli._settings import FILE_BACKENDS, Backend, Settings, settings_of
from raeburnmemory.core.errors import EmbeddingMismatchError
from raeburnmemory.core.paths import resolve_db_path

if TYPE_CHECKING:  # the stores load numpy: imported when a command runs, not for --help
    from raeburnmemory.core.store import Store

__all__ = ["migrate", "reindex", "stats"]


def stats(ctx: typer.Context) -> None:
    """Show what the store holds: interactions, sessions, agents, vectors, encoder, backends."""
    settings = settings_of(ctx)
    with settings.open_memory(create=False) as mg:
        figures = dict(mg.stats())
    settings.output.record(figures)


def reindex(ctx: typer.Context) -> None:
    """Re-embed every prompt with the current encoder (the way to switch models)."""
    settings = settings_of(ctx)
    out = settings.output
    with out.progress("re-embedding prompts") as bar:
        switched = False
        try:
            mg = settings.open_graph(create=False)
        except EmbeddingMismatchError:
            # Another model made the vectors: MemoryGraph re-embeds them while it opens.
            mg = settings.open_graph(create=False, reindex=True)
            switched = True
        with mg:
            count = int(mg.stats()["interactions"]) if switched else mg.reindex(progress=bar)
            encoder = mg.encoder_name
    out.message(
        f"re-embedded {count} prompt{'s' * (count != 1)} with {encoder}",
        {"reindexed": count, "encoder": encoder},
    )


def _options(cls: type[Store], options: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if key in cls.option_names}


def _native(cls: type[Store], wanted: str | None) -> str | None:
    choice = wanted if wanted is not None else cls.default_vector_backend
    return choice if choice in cls.native_vector_backends else None


def _target_location(settings: Settings, to: str, dsn: str | None) -> str | None:
    if to not in FILE_BACKENDS:
        return dsn  # None: the backend's own default (RAEBURN_POSTGRES_DSN)
    if dsn is not None:
        path = Path(dsn).expanduser().absolute()  # used exactly as given
    else:
        path = resolve_db_path(settings.db, suffix=".json" if to == "json" else ".db")
    if path == settings.store_path():
        raise typer.BadParameter(
            f"{path} is the store being copied; name another file", param_hint="'--dsn'"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def migrate(
    ctx: typer.Context,
    to: Annotated[
        Backend,
        choice_option("--to", Backend, "The storage backend to copy into."),
    ],
    dsn: Annotated[
        str | None,
        typer.Option(
            "--dsn",
            help="Where the copy goes: a PostgreSQL DSN, or a file for json and sqlite, used as "
            "given (default: --db with the target's extension, .json or .db).",
            metavar="DSN",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Interactions copied per batch.", metavar="N")
    ] = 2048,
) -> None:
    """Copy the whole store (--backend, --db) into another backend, vectors without re-encoding."""
    settings = settings_of(ctx)
    out = settings.output
    if to.value == settings.backend:
        raise typer.BadParameter(
            f"the store is a {settings.backend} store already; pick another --to",
            param_hint="'--to'",
        )
    from raeburnmemory.core.registry import load_storage_backend
    from raeburnmemory.core.transfer import copy_store

    source_cls = load_storage_backend(settings.backend)
    target_cls = load_storage_backend(to.value)
    source_location = None if settings.db is None else settings.db
    if settings.is_file_store:
        source_location = str(settings.store_path())
    source = source_cls.open(
        source_location,
        create=False,
        vector_backend=_native(source_cls, settings.vectors),
        options=_options(source_cls, settings.options),
    )
    try:
        location = _target_location(settings, to.value, dsn)
        # A new SQLite file imports the JSON store of its name as it is made: that copy counts.
        new_file = (
            location is not None and to.value in FILE_BACKENDS and not Path(location).exists()
        )
        with out.progress("copying interactions") as bar:
            target = target_cls.open(
                location,
                create=True,
                vector_backend=_native(target_cls, None),
                options=_options(target_cls, settings.options),
            )
            try:
                added = copy_store(source, target, batch_size=batch_size, progress=bar)
                total, held = source.count(), target.count()
                target_location = target.location
            finally:
                target.close()  # the last write (a JSON store folds its journal): bar still up
        if new_file:
            added = held
    finally:
        source.close()
    out.message(
        f"copied {source.location} into the {to.value} store {target_location}: "
        f"{added} interaction{'s' * (added != 1)} added, {held} held there",
        {
            "source": source.location,
            "target": target_location,
            "backend": to.value,
            "source_interactions": total,
            "added": added,
            "target_interactions": held,
        },
    )
    backend = "" if to.value == "json" else f" --backend {to.value}"
    out.note(f"use it with: raeburnmemory{backend} --db {target_location} ...")
