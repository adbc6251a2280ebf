"""The global options of one run and how a command opens the memory they name."""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raeburnmemory.cli._output import Output
from raeburnmemory.core.errors import (
    BackendNotInstalledError,
    ConfigurationError,
    NotAStoreError,
)
from raeburnmemory.core.paths import resolve_db_path
from raeburnmemory.core.store_files import (
    SQLITE_EXTENSIONS,
    StoreFileKind,
    identify_store_file,
    not_a_store_reason,
)

if TYPE_CHECKING:
    from raeburnmemory.cli._remote import Memory
    from raeburnmemory.memory_graph import MemoryGraph

__all__ = [
    "FILE_BACKENDS",
    "Backend",
    "Settings",
    "parse_options",
    "raw_settings_of",
    "settings_of",
]

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


# The backend an existing file's content says it belongs to, and what to say when
# --backend names another one.
_BACKEND_OF_FILE = {StoreFileKind.SQLITE: "sqlite", StoreFileKind.JSON_STORE: "json"}
_MISMATCH = {
    "sqlite": "{path} is a SQLite database: add --backend sqlite instead of --backend {given}",
    "json": "{path} is a raeburnmemory JSON store, not a {given} store: leave out --backend "
    "{given} (migrate --to {given} copies it into one)",
}


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
    #: Whether ``--backend`` was given; otherwise an existing file's content decides.
    backend_given: bool = False
    #: Whether :meth:`located` has decided the backend and the exact path already.
    is_located: bool = False
    #: The running server of ``--url`` (or ``RAEBURN_URL``), and the key it wants.
    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: Whether this command goes to the server of :attr:`url` rather than a local store.
    remote: bool = False

    @property
    def output(self) -> Output:
        """The printer for this run (a new one per call, bound to the current streams)."""
        return Output(json_mode=self.json_mode)

    @property
    def is_file_store(self) -> bool:
        """Whether the store lives in a file on this machine."""
        return self.backend in FILE_BACKENDS

    def store_path(self) -> Path | None:
        """The file the store lives in (``None`` for server stores): ``--db`` as given."""
        if self.backend not in FILE_BACKENDS:
            return None
        if self.db is None and self.backend == "sqlite":
            path = resolve_db_path(None)
            return path if path.suffix in SQLITE_EXTENSIONS else path.with_suffix(".db")
        return resolve_db_path(self.db)

    def located(self) -> Settings:
        """These settings with the store's backend and path decided, checking the file.

        An existing file's content decides its backend, and a ``--backend`` that disagrees is
        an error saying what the file is; a new file's backend is ``--backend``, else its
        extension (``.db``, ``.sqlite``, ``.sqlite3``: sqlite), else json. Nothing is created.
        """
        if self.is_located or self.remote:
            return self
        if self.backend_given and self.backend not in FILE_BACKENDS:
            return dataclasses.replace(self, is_located=True)
        path = self.store_path()
        assert path is not None
        kind = identify_store_file(path)
        backend = self.backend
        found = _BACKEND_OF_FILE.get(kind)
        if found is not None:
            if self.backend_given and backend != found:
                raise NotAStoreError(path, _MISMATCH[found].format(path=path, given=backend))
            backend = found
        elif kind is not StoreFileKind.MISSING:
            raise NotAStoreError(path, f"{not_a_store_reason(path, kind)}; it was left untouched")
        elif not self.backend_given:
            backend = "sqlite" if path.suffix in SQLITE_EXTENSIONS else "json"
        return dataclasses.replace(self, db=str(path), backend=backend, is_located=True)

    def describe(self) -> str:
        """The store as people should read it in messages."""
        if self.remote and self.url is not None:
            from raeburnmemory.cli._remote import shown_url

            return shown_url(self.url)
        path = self.store_path()
        if path is not None:
            return str(path)
        return f"the {self.backend} store" if self.db is None else f"{self.backend} store {self.db}"

    def command_line(self, command: str) -> str:
        """The command line running ``command`` on this store with this encoder, as the user
        gave them (options taken from the environment stay there)."""
        words = ["raeburnmemory"]
        if self.backend_given:
            words += ["--backend", self.backend]
        if "db" in self.given and self.db is not None:
            words += ["--db", self.db]
        if self.vectors is not None:
            words += ["--vectors", self.vectors]
        for key, value in self.options.items():
            words += ["-o", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
        if "model" in self.given and self.model is not None:
            words += ["--model", self.model]
        return shlex.join([*words, command])

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

        if not self.is_located:
            return self.located().open_graph(create=create, offline=offline, reindex=reindex)
        _check_faiss_options(self)
        if create:
            path = self.store_path()
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
        kwargs = self.graph_kwargs(offline=offline)
        return MemoryGraph(create=create, reindex=reindex, **kwargs)

    def open_memory(self, *, create: bool) -> Memory:
        """The memory of a command the HTTP API also serves: the server of ``--url`` when
        this command goes there, else the local store (see :meth:`open_graph`)."""
        if self.remote and self.url is not None:
            from raeburnmemory.cli._remote import open_client

            return open_client(self.url, self.api_key)
        return self.open_graph(create=create)


_FAISS_OPTIONS = ("index", "hnsw_m", "ef_search")


class _FaissMissingError(BackendNotInstalledError):
    """A FAISS option was given where FAISS is not installed."""

    def __init__(self, option: str) -> None:
        ConfigurationError.__init__(
            self,
            f"-o {option} is an option of FAISS vectors, and FAISS is not installed: "
            "pip install 'raeburnmemory-core[faiss]'",
        )
        self.backend = "faiss"
        self.distribution = "raeburnmemory-core[faiss]"


def _check_faiss_options(settings: Settings) -> None:
    """``-o index=hnsw`` without FAISS: say which install brings it (not "unknown option")."""
    given = [name for name in _FAISS_OPTIONS if name in settings.options]
    if not given or settings.vectors not in (None, "faiss") or settings.backend == "postgres":
        return
    import importlib.util

    if importlib.util.find_spec("faiss") is None:
        value = settings.options[given[0]]
        raise _FaissMissingError(f"{given[0]}={value}")


def raw_settings_of(ctx: typer.Context) -> Settings:
    """The settings the global options stored on the click context, store not located yet."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        raise ConfigurationError("the command was run without the raeburnmemory top-level options")
    return root.obj


def settings_of(ctx: typer.Context) -> Settings:
    """The settings of the global options, with the store's backend and path decided."""
    return raw_settings_of(ctx).located()
