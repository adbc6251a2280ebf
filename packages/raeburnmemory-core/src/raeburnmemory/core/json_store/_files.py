"""The JSON store's files and their names, its options, and the errors that name a file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import (
    NotAStoreError,
    StoreError,
    StorePermissionError,
)
from raeburnmemory.core.json_store._vector_file import SUFFIXES
from raeburnmemory.core.options import Flag, Seconds, option_names
from raeburnmemory.core.options import parse_options as options_of
from raeburnmemory.core.store_files import StoreFileKind, identify_store_file, not_a_store_reason

__all__ = [
    "OPTION_NAMES",
    "StoreFiles",
    "check_is_json_store",
    "lock_error",
    "parse_options",
    "permission_errors",
]

#: The options of the JSON store.
OPTIONS = (Flag("fsync"), Seconds("lock_timeout", 10.0))
OPTION_NAMES = option_names(OPTIONS)


def parse_options(options: Mapping[str, Any] | None) -> tuple[bool, float]:
    """``(fsync, lock_timeout)`` from the store's options (``ConfigurationError`` if wrong)."""
    parsed = options_of("json store", OPTIONS, options)
    return parsed["fsync"], parsed["lock_timeout"]


class StoreFiles:
    """The paths of one store's files."""

    def __init__(self, graph: Path) -> None:
        self.graph = graph
        self.journal = Path(f"{graph}.journal")
        self.map = Path(f"{graph}.map.json")
        self.lock = Path(f"{graph}.lock")
        self.dir = graph.parent

    def vectors(self, fmt: str) -> Path:
        """The vectors file of a format (``"faiss"`` or ``"npy"``)."""
        return Path(f"{self.graph}{SUFFIXES[fmt]}")

    @staticmethod
    def temp(path: Path) -> Path:
        """Where a compaction writes the next version of ``path``."""
        return Path(f"{path}.tmp")

    def renames(self) -> list[Path]:
        """Every file a compaction replaces, in the order it renames them."""
        return [*(self.vectors(fmt) for fmt in SUFFIXES), self.map, self.graph, self.journal]

    def every(self) -> list[Path]:
        """Every file of the store, the lock and a compaction's temporary names included."""
        renamed = self.renames()
        return [*renamed, self.lock, *(self.temp(path) for path in renamed)]

    def drop_vectors_except(self, fmt: str | None) -> None:
        """Remove the vectors file of the other format (after a compaction changed it)."""
        for other in SUFFIXES:
            if other != fmt:
                self.vectors(other).unlink(missing_ok=True)


def check_is_json_store(path: Path) -> None:
    """Refuse, before any file is made beside it, a file that is not a JSON store."""
    kind = identify_store_file(path)
    if kind in (StoreFileKind.MISSING, StoreFileKind.JSON_STORE):
        return
    if kind is StoreFileKind.SQLITE:
        raise NotAStoreError(
            path, f"{path} is a SQLite database: open it with storage_backend='sqlite'"
        )
    raise NotAStoreError(path, f"{not_a_store_reason(path, kind)}; it was left untouched")


@contextlib.contextmanager
def permission_errors(action: str) -> Iterator[None]:
    """Turn a ``PermissionError`` on a store file into ``StorePermissionError`` naming it."""
    try:
        yield
    except PermissionError as exc:
        if isinstance(exc, StorePermissionError):
            raise
        where = exc.filename if exc.filename is not None else "the store"
        raise StorePermissionError(where, action) from None


def lock_error(path: Path, exc: OSError) -> StoreError:
    """Why the lock file cannot be used (a permission problem, or what the system said)."""
    if isinstance(exc, PermissionError):
        return StorePermissionError(path, "write")
    return StoreError(f"{path}: cannot lock the store ({exc})")
