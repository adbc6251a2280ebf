"""The JSON store's writer lock: ``flock`` on a lock file kept open, or filelock elsewhere.

Taking and releasing an ``flock`` costs a few microseconds, which keeps a single durable add
cheap; platforms without ``fcntl`` use the portable ``filelock`` package. Each lock object has
its own open file, so two stores in one process exclude each other like two processes do, and a
forked child opens its own.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import StoreLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["StoreLock"]

_FIRST_WAIT = 0.0005
_LONGEST_WAIT = 0.05


class StoreLock:
    """An exclusive, non-reentrant lock on ``path``; ``StoreLockedError`` after ``timeout`` s."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd = -1
        self._pid = os.getpid()
        self._portable: Any = None
        if fcntl is None:  # pragma: no cover - Windows
            import filelock  # only where it is used: it is slow to import

            self._portable = filelock.FileLock(str(path))

    def acquire(self) -> None:
        """Wait for the lock (``OSError`` when the lock file cannot be opened)."""
        if self._portable is not None:  # pragma: no cover - Windows
            try:
                self._portable.acquire(timeout=self.timeout)
            except TimeoutError:  # filelock.Timeout
                raise StoreLockedError(self.path, self.timeout) from None
            return
        if self._fd >= 0 and self._pid != os.getpid():
            # a forked child shares the parent's open file, and with it the parent's lock
            os.close(self._fd)
            self._fd = -1
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._pid = os.getpid()
        deadline = time.monotonic() + self.timeout
        wait = _FIRST_WAIT
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreLockedError(self.path, self.timeout)
            time.sleep(min(wait, left))
            wait = min(wait * 2, _LONGEST_WAIT)

    def release(self) -> None:
        """Let the next writer in."""
        if self._portable is not None:  # pragma: no cover - Windows
            self._portable.release()
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file (the lock must not be held)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
