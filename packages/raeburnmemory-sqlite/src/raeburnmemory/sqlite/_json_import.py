"""First-use import of a JSON store into a new SQLite database.

The database is built under a temporary name in one transaction, vectors copied as they are
(nothing is re-encoded), made durable, and only then linked into place under its real name.
A failure at any point leaves no database behind, and the JSON files are only read.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from raeburnmemory.core.registry import load_storage_backend
from raeburnmemory.core.store import Store
from raeburnmemory.core.transfer import copy_store

__all__ = [
    "BulkTarget",
    "database_files",
    "import_json_store",
    "import_temporaries",
    "json_sibling",
]


class BulkTarget(Protocol):
    """A store that can run many writes in one transaction and be closed."""

    def bulk(self) -> AbstractContextManager[Store]:
        """A context in which every write joins one transaction, committed at the end."""

    def close(self) -> None:
        """Close the store."""


def json_sibling(db_path: Path) -> Path:
    """The JSON store a database imports on first use: ``graph.db`` -> ``graph.json``."""
    return db_path.with_suffix(".json")


def database_files(path: Path) -> Iterator[Path]:
    """The database at ``path`` and the files SQLite keeps beside it."""
    yield path
    for suffix in ("-wal", "-shm", "-journal"):
        yield path.with_name(path.name + suffix)


def _temp_prefix(db_path: Path) -> str:
    return f".{db_path.name}.import-"


def import_temporaries(db_path: Path) -> list[Path]:
    """The files of imports into ``db_path`` under way now (or left by a killed process)."""
    return sorted(db_path.parent.glob(f"{glob.escape(_temp_prefix(db_path))}*"))


def _fsync(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if directory else os.O_RDWR
    try:
        fd = os.open(path, flags)
    except OSError:  # some platforms cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def import_json_store(
    json_path: Path,
    db_path: Path,
    open_target: Callable[[Path], BulkTarget],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> bool:
    """Import the JSON store at ``json_path`` into a new database at ``db_path``.

    ``open_target(path)`` opens an empty SQLite store at a temporary path. Returns ``False``
    when another process created ``db_path`` first (its database is then used as it is).
    """
    temp = db_path.with_name(f"{_temp_prefix(db_path)}{os.getpid()}-{secrets.token_hex(4)}")
    source = load_storage_backend("json").open(str(json_path), create=False)
    try:
        target = open_target(temp)
        try:
            with target.bulk() as bulk:
                copy_store(source, bulk, progress=progress)
        finally:
            target.close()
        _fsync(temp)
        try:
            os.link(temp, db_path)
        except FileExistsError:
            return False
        except OSError:  # file systems without hard links: a rename cannot refuse to overwrite
            if db_path.exists():
                return False
            os.replace(temp, db_path)
        _fsync(db_path.parent, directory=True)
        return True
    finally:
        source.close()
        for leftover in database_files(temp):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
