"""The global options of one run and how a command opens the memory they name."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raeburnmemory.cli._output import Output
from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.paths import resolve_db_path

if TYPE_CHECKING:
    from raeburnmemory.memory_graph import MemoryGraph

__all__ = ["FILE_BACKENDS", "Backend", "Settings", "parse_options", "settings_of"]

#: Storage backends whose ``--db`` is a file path (the others take a server address).
FILE_BACKENDS = frozenset({"json", "sqlite"})


class Backend(str, Enum):
    """Storage backends the command line can name with ``--backend``."""

    JSON = "json"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``["index=hnsw", "fsync=true"]`` as ``{"index": "hnsw", "fsync": True}``.

    A value that reads as JSON (numbers, ``true``, ``null``, lists) is taken as such; any other
    value is a string.
    """
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="'--option'")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


@dataclass(frozen=True)
class Settings:
    """What the global options say: which store, which vectors, which encoder, which output."""

    db: str | None
    backend: str = "json"
    vectors: str | None = None
    #: The encoder name; ``None`` leaves the library's default (``RAEBURN_EMBED_MODEL`` first).
    model: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    json_mode: bool = False
    #: Global options given on the command line itself (not taken from the environment).
    given: frozenset[str] = frozenset()

    @property
    def output(self) -> Output:
        """The printer for this run (a new one per call, bound to the current streams)."""
        return Output(json_mode=self.json_mode)

    @property
    def is_file_store(self) -> bool:
        """Whether the store lives in a file on this machine."""
        return self.backend in FILE_BACKENDS

    def store_path(self) -> Path | None:
        """The file the store lives in (``None`` for server stores)."""
        if self.backend == "json":
            return resolve_db_path(self.db)
        if self.backend == "sqlite":
            return resolve_db_path(self.db, suffix=".db")
        return None

    def describe(self) -> str:
        """The store as people should read it in messages."""
        path = self.store_path()
        if path is not None:
            return str(path)
        return f"the {self.backend} store" if self.db is None else f"{self.backend} store {self.db}"

    def graph_kwargs(self, *, model: str | None = None, offline: bool = False) -> dict[str, Any]:
        """Keyword arguments of ``MemoryGraph`` for these settings.

        ``model`` overrides the encoder; ``offline`` picks the built-in offline encoder when the
        user named none.
        """
        kwargs: dict[str, Any] = dict(self.options)
        kwargs["storage_backend"] = self.backend
        if self.vectors is not None:
            kwargs["vector_backend"] = self.vectors
        chosen = model if model is not None else self.model
        if chosen is not None:
            kwargs["embedding_model"] = None if chosen.strip().lower() == "none" else chosen
        elif offline:
            kwargs["embedding_model"] = None
        if self.backend == "postgres":
            if self.db is not None:
                kwargs.setdefault("dsn", self.db)
        else:
            kwargs["db_path"] = self.db
        return kwargs

    def open_graph(
        self, *, create: bool, offline: bool = False, reindex: bool = False
    ) -> MemoryGraph:
        """Open the memory: ``create=True`` for commands that write (the folder is made).

        With ``create=False`` a store that does not exist raises ``StoreNotFoundError``;
        ``reindex=True`` re-embeds a store made by another encoder while opening it.
        """
        from raeburnmemory.memory_graph import MemoryGraph

        if create:
            path = self.store_path()
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
        kwargs = self.graph_kwargs(offline=offline)
        return MemoryGraph(create=create, reindex=reindex, **kwargs)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the top-level options stored on the click context."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        raise ConfigurationError("the command was run without the raeburnmemory top-level options")
    return root.obj
