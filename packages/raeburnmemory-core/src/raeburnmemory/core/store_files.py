"""What a file named as a store holds, told from its first bytes without changing anything.

Stores use the path they are given as it is; when the file exists, its content says which
backend it belongs to. :func:`identify_store_file` reads at most a few kilobytes and never
creates, locks or writes a file, so it can answer for read-only callers too.
"""

from __future__ import annotations

import os
import re
from enum import Enum
from pathlib import Path

__all__ = [
    "SQLITE_EXTENSIONS",
    "SQLITE_HEADER",
    "StoreFileKind",
    "identify_store_file",
    "not_a_store_reason",
]

#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: File extensions that make a new store a SQLite database when no backend is named.
SQLITE_EXTENSIONS = frozenset({".db", ".sqlite", ".sqlite3"})

# The JSON store's snapshot names its format in the graph attributes it writes first.
_JSON_STORE_MARK = re.compile(rb'"format"\s*:\s*"raeburnmemory"')
_HEAD_BYTES = 4096


class StoreFileKind(str, Enum):
    """What :func:`identify_store_file` found at a path."""

    MISSING = "missing"
    DIRECTORY = "directory"
    EMPTY = "empty"
    #: A SQLite database (a raeburnmemory one or any other application's).
    SQLITE = "sqlite"
    #: A raeburnmemory JSON store: its snapshot names the format, or its map or journal is beside.
    JSON_STORE = "json"
    #: Anything else: another program's JSON, text, a truncated file that was never a store.
    OTHER = "other"


def identify_store_file(path: str | os.PathLike[str]) -> StoreFileKind:
    """What the file at ``path`` is, from its first bytes and the JSON store's files beside it."""
    target = Path(path)
    try:
        with target.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except FileNotFoundError:
        return StoreFileKind.MISSING
    except IsADirectoryError:
        return StoreFileKind.DIRECTORY
    except OSError:
        # Unreadable here (permissions): let the store that opens it say what is wrong.
        return StoreFileKind.JSON_STORE if _json_store_beside(target) else StoreFileKind.OTHER
    if head.startswith(SQLITE_HEADER):
        return StoreFileKind.SQLITE
    if _json_store_beside(target) or _JSON_STORE_MARK.search(head):
        return StoreFileKind.JSON_STORE
    if not head:
        return StoreFileKind.EMPTY
    return StoreFileKind.OTHER


def _json_store_beside(path: Path) -> bool:
    """Whether the JSON store's own files sit beside ``path`` (a damaged store keeps them)."""
    return any(Path(f"{path}{suffix}").is_file() for suffix in (".map.json", ".journal"))


def not_a_store_reason(path: str | os.PathLike[str], kind: StoreFileKind) -> str:
    """``"<path> is not a raeburnmemory store"``, said the way that fits ``kind``."""
    if kind is StoreFileKind.EMPTY:
        return f"{path} is an empty file, not a raeburnmemory store"
    if kind is StoreFileKind.DIRECTORY:
        return f"{path} is a directory, not a raeburnmemory store"
    return f"{path} is not a raeburnmemory store"
