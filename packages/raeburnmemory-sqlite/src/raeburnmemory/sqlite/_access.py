"""How this process may open a database file: to write it, only to read it, or frozen.

SQLite in WAL mode keeps two files beside the database (``-wal`` and ``-shm``) that even a
reader must be able to create. Where the process may not write the database or its folder,
connections are opened read-only (``mode=ro``), and where it cannot create those files either,
as ``immutable``: SQLite then reads the database file alone and sees it as it was when opened.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from urllib.parse import quote

__all__ = ["Access", "access_for", "uri_for"]


class Access(Enum):
    """How a database is opened."""

    WRITE = "rw"
    READ = "ro"
    FROZEN = "immutable"


def access_for(path: Path) -> Access:
    """The most this process can do with the database at ``path`` (which may not exist)."""
    folder = path.parent if str(path.parent) else Path(".")
    folder_writable = os.access(folder, os.W_OK | os.X_OK)
    if not path.exists():
        return Access.WRITE  # creating it says whether the folder allows it
    if folder_writable and os.access(path, os.W_OK):
        return Access.WRITE
    if folder_writable or Path(f"{path}-wal").exists():
        return Access.READ
    return Access.FROZEN


def uri_for(path: Path, access: Access) -> str:
    """The ``file:`` URI that opens ``path`` read-only (``READ``) or frozen (``FROZEN``)."""
    uri = f"file:{quote(path.absolute().as_posix())}?mode=ro"
    return uri + "&immutable=1" if access is Access.FROZEN else uri
