"""The ``raeburnmemory`` Typer application: global options, error handling and ``main()``.

Global options (``--db``, ``--backend``, ``--json``, ...) go before or after the command.
Every failure ends as one line on standard error and an exit status: 2 for a usage error (an
unknown option, a bad flag value, a bad configuration), 1 for anything else the library refuses
(a missing or corrupt store, no embeddings yet, an unknown id), 130 when interrupted. Set
``RAEBURN_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from raeburnmemory.cli import (
    _demo,
    _export,
    _import,
    _listing,
    _maintenance,
    _mcp,
    _records,
    _search,
    _serve,
)
from raeburnmemory.cli._arguments import global_options_first
from raeburnmemory.cli._choices import choice_option
from raeburnmemory.cli._output import print_error, print_warning
from raeburnmemory.cli._quick_params import quicken
from raeburnmemory.cli._remote import REMOTE_COMMANDS, is_usage_error, remote_hint
from raeburnmemory.cli._settings import Backend, Settings, parse_options
from raeburnmemory.cli._versions import version_lines
from raeburnmemory.cli._words import cli_words
from raeburnmemory.core.errors import (
    BackendNotInstalledError,
    ConfigurationError,
    EmbeddingMismatchError,
    InvalidFilterError,
    InvalidInteractionError,
    RaeburnMemoryError,
    StoreNotFoundError,
)

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_USAGE", "app", "main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _click_exception(name: str) -> type[Exception]:
    # Typer raises click's exceptions (its own copy of click in recent releases): find them
    # through a class Typer exports rather than importing one click or the other.
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == name:
            return cls
    raise ImportError(f"typer does not provide {name}")  # pragma: no cover


_ClickException = _click_exception("ClickException")
_UsageError = _click_exception("UsageError")


def _click_message(exc: Exception) -> str:
    format_message = getattr(exc, "format_message", None)
    return str(format_message()) if callable(format_message) else str(exc)


def _usage_message(exc: Exception) -> str:
    message = _click_message(exc)
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "raeburnmemory"
    return f"{message} (see '{path} --help')"


def _exit_code(exc: RaeburnMemoryError) -> int:
    if isinstance(exc, BackendNotInstalledError):
        return EXIT_ERROR
    usage = (ConfigurationError, InvalidInteractionError, InvalidFilterError)
    if isinstance(exc, usage) or is_usage_error(exc):
        return EXIT_USAGE
    return EXIT_ERROR


def _library_message(exc: RaeburnMemoryError) -> str:
    message = cli_words(str(exc) or type(exc).__name__)
    if isinstance(exc, StoreNotFoundError):
        message += " (add, import and demo create one; --db names another)"
    hint = remote_hint(exc)
    if hint is not None:
        message += f" ({hint})"
    return message


class _MismatchError(EmbeddingMismatchError):
    """An ``EmbeddingMismatchError`` told in commands: the model to give, the reindex to run."""

    def __init__(self, exc: EmbeddingMismatchError, settings: Settings) -> None:
        RaeburnMemoryError.__init__(
            self,
            f"the store was embedded with {exc.stored!r} ({exc.stored_dim} dimensions) but "
            f"the active encoder is {exc.active!r} ({exc.active_dim} dimensions); give the "
            f"model that made it with --model {exc.stored}, or re-embed every prompt with "
            f"the new one: {settings.command_line('reindex')}",
        )
        self.stored, self.stored_dim = exc.stored, exc.stored_dim
        self.active, self.active_dim = exc.active, exc.active_dim


def _os_message(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Show the library's warnings (an encoder fallback, ...) as one line each."""
    original = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print_warning(cli_words(str(message)))

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


_HELP_OPTIONS = frozenset({"-h", "--help"})
#: ``ctx.meta`` key: whether the command line asks for a command's help (so nothing runs).
_HELP_ASKED = "raeburnmemory.help_asked"


# "  TEXT <str>  The text ..." in a command's Arguments section: the metavariable says enough.
_ARGUMENT_TYPE = re.compile(r"^(  [A-Z][A-Z_]*) <\w+>", re.M)


class _Command(TyperCommand):
    """A command whose help names its arguments by their metavariable alone, like options."""

    def get_help(self, ctx: Any) -> str:
        """The help text, with ``TEXT`` rather than ``TEXT <str>`` for arguments."""
        return _ARGUMENT_TYPE.sub(lambda match: match.group(1) + " " * 6, super().get_help(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse, checking values that need no conversion without pydantic."""
        quicken(self.get_params(ctx))
        return super().parse_args(ctx, args)


class _Group(TyperGroup):
    """The top-level command group, turning every failure into one line and an exit status."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        sys.exit(self._run(args, prog_name, complete_var, extra))

    def invoke(self, ctx: Any) -> Any:
        """Run the command; a store of another encoder is told with the reindex to run."""
        try:
            return super().invoke(ctx)
        except EmbeddingMismatchError as exc:
            settings = ctx.obj
            if not isinstance(settings, Settings) or settings.remote or not hasattr(exc, "stored"):
                raise  # the server's store, or one told without its figures: as the library says
            raise _MismatchError(exc, settings) from None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Take the global options wherever they are, before or after the command."""
        options = args[: args.index("--")] if "--" in args else args
        ctx.meta[_HELP_ASKED] = not _HELP_OPTIONS.isdisjoint(options)
        quicken(self.get_params(ctx))
        return super().parse_args(ctx, global_options_first(self, ctx, args))

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        extra: dict[str, Any],
    ) -> int:
        try:
            with _one_line_warnings():
                result = super().main(
                    args, prog_name or "raeburnmemory", complete_var, standalone_mode=False, **extra
                )
        except _UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `raeburnmemory`: the help
                exc.show()  # type: ignore[attr-defined]
            else:
                print_error(_usage_message(exc))
            return EXIT_USAGE
        except _ClickException as exc:
            print_error(_click_message(exc))
            return int(getattr(exc, "exit_code", EXIT_ERROR))
        except typer.Abort:
            print_error("aborted; nothing was changed")
            return EXIT_ERROR
        except RaeburnMemoryError as exc:
            print_error(_library_message(exc))
            return _exit_code(exc)
        except OSError as exc:
            print_error(_os_message(exc))
            return EXIT_ERROR
        except KeyboardInterrupt:
            print_error("interrupted")
            return EXIT_INTERRUPTED
        except Exception as exc:
            if os.environ.get("RAEBURN_DEBUG"):
                raise
            print_error(
                f"unexpected {type(exc).__name__}: {exc} (RAEBURN_DEBUG=1 shows the traceback)"
            )
            return EXIT_ERROR
        return result if isinstance(result, int) else 0


app = typer.Typer(
    cls=_Group,
    name="raeburnmemory",
    help="Record LLM interactions in a persistent memory graph and search them by similarity.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: flags shown as flags, and no rich import to show it
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        for line in version_lines():
            typer.echo(line)
        raise typer.Exit()


def _blank_is_none(value: str | None) -> str | None:
    return None if value is None or not value.strip() else value.strip()


def _on_command_line(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


@app.callback()
def _global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="RAEBURN_DB_PATH",
            show_envvar=True,
            help="The store: a file path (json, sqlite), or a DSN with --backend postgres. "
            "Default: ~/.raeburnbrain/graph.json.",
            metavar="PATH",
        ),
    ] = None,
    backend: Annotated[
        Backend | None,
        choice_option(
            "--backend",
            Backend,
            "Storage backend: json, sqlite or postgres. Default: what an existing file "
            "holds, else sqlite for .db, .sqlite and .sqlite3 files, else json.",
            show_default=False,
        ),
    ] = None,
    vectors: Annotated[
        str | None,
        typer.Option(
            "--vectors",
            help="Vector backend: numpy, faiss, qdrant, sqlite-vec or pgvector (default: the "
            "store's choice).",
            metavar="NAME",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            envvar="RAEBURN_EMBED_MODEL",
            show_envvar=True,
            help="Embedding model name, or 'none' for the built-in offline encoder. Default: "
            "the encoder that made the store's vectors, else all-MiniLM-L6-v2.",
            metavar="NAME",
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="A backend option as KEY=VALUE (for example index=hnsw); repeatable.",
            metavar="KEY=VALUE",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="RAEBURN_URL",
            show_envvar=True,
            help="A running server (raeburnmemory serve) that answers add, show, history, "
            "list, count, update, delete, forget, similar and stats in place of a local "
            "store: no model to load here.",
            metavar="URL",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="RAEBURN_API_KEY",
            show_envvar=True,
            help="The API key of the server of --url.",
            metavar="KEY",
        ),
    ] = None,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print results as JSON for programs.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the version of every installed raeburnmemory distribution and exit.",
        ),
    ] = False,
) -> None:
    """Record LLM interactions in a persistent memory graph and search them by similarity."""
    url = _blank_is_none(url)
    given = {"--db": db, "--model": model, "--backend": backend, "--vectors": vectors}
    local = [
        name
        for name, value in {**given, "--option": option}.items()
        if value and _on_command_line(ctx, name[2:])
    ]
    remote = _goes_to_server(ctx, url, local)
    ctx.obj = Settings(
        db=_blank_is_none(db),
        backend=backend.value if backend is not None else "json",
        backend_given=backend is not None,
        vectors=_blank_is_none(vectors),
        model=_blank_is_none(model),
        options=parse_options(option),
        json_mode=json_mode,
        given=frozenset(name for name in ("db", "model") if _on_command_line(ctx, name)),
        url=url,
        api_key=_blank_is_none(api_key),
        remote=remote,
    )


def _goes_to_server(ctx: typer.Context, url: str | None, local: list[str]) -> bool:
    """Whether the command goes to the server of ``url``; refuse what cannot.

    ``--url`` on the command line is for the commands the API serves, and not with options
    naming a local store. ``RAEBURN_URL`` gives way: to those options, and to the commands
    that work on a local store only.
    """
    command = ctx.invoked_subcommand
    if url is None or command is None or ctx.meta.get(_HELP_ASKED):
        return False
    if not _on_command_line(ctx, "url"):
        return command in REMOTE_COMMANDS and not local
    if command not in REMOTE_COMMANDS:
        served = ", ".join(sorted(REMOTE_COMMANDS))
        raise typer.BadParameter(
            f"{command} works on a local store only, which the HTTP API does not offer: leave "
            f"out --url (it serves {served})",
            param_hint="'--url'",
        )
    if local:
        raise typer.BadParameter(
            f"the server of --url chooses its own store and model: leave out {local[0]}",
            param_hint="'--url'",
        )
    return True


_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("add", _records.add),
    ("show", _records.show),
    ("history", _records.history),
    ("delete", _records.delete),
    ("list", _listing.list_interactions),
    ("count", _listing.count),
    ("update", _records.update),
    ("forget", _listing.forget),
    ("similar", _search.similar),
    ("export", _export.export),
    ("import", _import.import_file),
    ("stats", _maintenance.stats),
    ("reindex", _maintenance.reindex),
    ("migrate", _maintenance.migrate),
    ("serve", _serve.serve),
    ("mcp", _mcp.mcp),
    ("demo", _demo.demo),
)
for _name, _command in _COMMANDS:
    app.command(_name, cls=_Command)(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the ``raeburnmemory`` console script) and exit."""
    app(args=list(argv) if argv is not None else None, prog_name="raeburnmemory")
