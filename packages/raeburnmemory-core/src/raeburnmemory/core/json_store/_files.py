"""The JSON store's files: their names, its options, and finishing an interrupted compaction.

A compaction writes every new file beside the old one with a ``.tmp`` suffix, the journal last,
then renames them over the old ones in the order :meth:`StoreFiles.renames` gives. A complete
temporary journal therefore means every temporary file was complete before the first rename.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from raeburnmemory.core._fsync import fsync_dir
from raeburnmemory.core.errors import ConfigurationError, CorruptStoreError
from raeburnmemory.core.json_store._journal import read_header
from raeburnmemory.core.json_store._map_file import read_map
from raeburnmemory.core.json_store._vector_file import SUFFIXES

__all__ = ["OPTION_NAMES", "StoreFiles", "no_gc", "parse_options", "recover"]

#: The options of the JSON store.
OPTION_NAMES = frozenset({"fsync", "lock_timeout"})


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small objects are built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_options(options: Mapping[str, Any] | None) -> tuple[bool, float]:
    """``(fsync, lock_timeout)`` from the store's options (``ConfigurationError`` if wrong)."""
    opts = dict(options or {})
    unknown = sorted(set(opts) - OPTION_NAMES)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(unknown)} for the json store; "
            f"known options: {', '.join(sorted(OPTION_NAMES))}"
        )
    fsync = opts.get("fsync", False)
    if not isinstance(fsync, bool):
        raise ConfigurationError(f"fsync must be True or False, not {fsync!r}")
    timeout = opts.get("lock_timeout", 10.0)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout < 0
    ):
        raise ConfigurationError(f"lock_timeout must be a number of seconds >= 0, not {timeout!r}")
    return fsync, float(timeout)


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


def _complete(marker: Path) -> bool:
    if not marker.exists():
        return False
    try:
        fd = os.open(marker, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        read_header(marker, fd)
    except CorruptStoreError:
        return False
    finally:
        os.close(fd)
    return True


def recover(files: StoreFiles) -> None:
    """Finish a compaction a crash interrupted, or undo one that never got to renaming.

    Also the last step of every compaction. Call it holding the lock.
    """
    if _complete(files.temp(files.journal)):
        for target in files.renames():
            temp = files.temp(target)
            if temp.exists():
                os.replace(temp, target)
        fsync_dir(files.dir)
        files.drop_vectors_except(read_map(files.map).fmt)
    else:
        for target in files.renames():
            files.temp(target).unlink(missing_ok=True)
