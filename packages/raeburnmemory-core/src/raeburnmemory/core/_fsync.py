"""Forcing a file's content or a directory's entries to disk."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["BackgroundFlushes", "fsync_dir", "fsync_file"]


def fsync_file(fh: Any) -> None:
    """Flush a file object to disk."""
    fh.flush()
    os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Force a directory's entries (renames, new files) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BackgroundFlushes:
    """Files forced to disk by threads while the caller writes the next ones.

    Waiting for the disk lets go of the interpreter's lock, so the flushes of several files
    overlap the work of writing the others; :meth:`wait` returns once every file is on disk.
    """

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._failed: list[tuple[Path, OSError]] = []

    def start(self, path: Path) -> None:
        """Start forcing ``path``'s content to disk."""
        thread = threading.Thread(target=self._flush, args=(path,), name="fsync", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _flush(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            self._failed.append((path, exc))

    def wait(self) -> tuple[Path, OSError] | None:
        """Wait for every flush started; the first file that failed and why, or ``None``."""
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        return self._failed[0] if self._failed else None
