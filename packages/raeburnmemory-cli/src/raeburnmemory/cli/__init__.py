"""raeburnmemory-cli: the ``raeburnmemory`` command.

Run ``raeburnmemory --help`` (or ``python -m raeburnmemory.cli --help``). :data:`app` is the
Typer application, for embedding or testing; :func:`main` runs it and exits.
"""

from raeburnmemory.cli._app import app, main

__all__ = ["app", "main"]
