"""Forcing a file's content or a directory's entries to disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["fsync_dir", "fsync_file"]


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
