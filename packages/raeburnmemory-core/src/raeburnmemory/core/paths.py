"""Where stores live when the caller names no path."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DB_PATH_ENV", "default_db_path", "resolve_db_path"]

#: Environment variable that overrides the default store path.
DB_PATH_ENV = "RAEBURN_DB_PATH"


def default_db_path() -> Path:
    """``$RAEBURN_DB_PATH`` when set, else ``~/.raeburnbrain/graph.json``."""
    configured = os.environ.get(DB_PATH_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".raeburnbrain" / "graph.json"


def resolve_db_path(db_path: str | os.PathLike[str] | None, *, suffix: str | None = None) -> Path:
    """The path a file store uses: ``db_path`` if given, else the default.

    With ``suffix`` (``".db"``) the path's extension is replaced by it, so ``mem.json`` opens
    ``mem.db``. The result is absolute.
    """
    path = Path(db_path).expanduser() if db_path is not None else default_db_path()
    if suffix is not None and path.suffix != suffix:
        path = path.with_suffix(suffix)
    return path.absolute()
