"""The store errors that name the file and the cause of a failed operating-system call."""

from __future__ import annotations

import errno
from pathlib import Path

from raeburnmemory.core.errors import StoreError, StorePermissionError

__all__ = ["file_error"]

# errno values that mean the disk (or the process's share of it) is full.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def file_error(path: Path | str, action: str, exc: OSError, outcome: str = "") -> StoreError:
    """The error for ``exc``, raised while trying to ``action`` (``"read"``, ``"write"``) ``path``.

    A permission problem gives :class:`StorePermissionError`; a full disk says so. ``outcome``
    is added to the message (``"nothing was written"``).
    """
    if isinstance(exc, PermissionError):
        return StorePermissionError(path, action)
    reason = exc.strerror or str(exc)
    tail = f"; {outcome}" if outcome else ""
    if exc.errno in _FULL:
        return StoreError(f"{path}: cannot {action} it: the disk is full ({reason}){tail}")
    return StoreError(f"{path}: cannot {action} it ({reason}){tail}")
