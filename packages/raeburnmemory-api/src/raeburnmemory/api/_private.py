"""Files the workers of one host share about one store, where only the server's user can write.

The start-up lock and the rate-limit counters live in a private directory of the user the
server runs as: ``$XDG_RUNTIME_DIR/raeburnmemory`` when the system gives the user such a
directory, else ``<temp>/raeburnmemory-<uid>``. The directory is created with mode 0700 and
the files in it with mode 0600. A directory or file there that belongs to another user, or a
symbolic link in its place, stops the server with a message naming it: another local user
could otherwise block the server from starting or forge its counters.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from raeburnmemory.core.errors import ConfigurationError

__all__ = ["claim_file", "private_dir", "refuse_foreign", "state_file"]


def _uid() -> int | None:
    """The effective user id, or ``None`` where the system has none (Windows)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _owner_problem(path: Path, info: os.stat_result) -> str | None:
    uid = _uid()
    if uid is not None and info.st_uid != uid:
        return f"{path} belongs to another user (uid {info.st_uid}), not to this server's ({uid})"
    return None


def _usable_runtime_dir() -> Path | None:
    """``$XDG_RUNTIME_DIR`` when it is an absolute path to a directory only this user can write."""
    value = os.environ.get("XDG_RUNTIME_DIR", "")
    if not value or not os.path.isabs(value):
        return None
    try:
        info = os.lstat(value)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return None
    if _owner_problem(Path(value), info) is not None:
        return None
    return Path(value)


def private_dir() -> Path:
    """This user's private directory for the server's shared files, created 0700 if missing."""
    runtime_dir = _usable_runtime_dir()
    if runtime_dir is not None:
        path = runtime_dir / "raeburnmemory"
    else:
        uid = _uid()
        path = Path(tempfile.gettempdir()) / f"raeburnmemory-{uid if uid is not None else 'user'}"
    try:
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        info = os.lstat(path)
    except OSError as exc:
        raise ConfigurationError(f"the private directory {path} cannot be made: {exc}") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise ConfigurationError(
            f"{path} should be this server's private directory but is not a directory; "
            "remove it, or set TMPDIR to a directory of your own"
        )
    problem = _owner_problem(path, info)
    if problem is not None:
        raise ConfigurationError(f"{problem}; remove it, or set TMPDIR to a directory of your own")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)  # ours, but left open by someone: close it
    return path


def state_file(kind: str, key: str, suffix: str) -> Path:
    """``<private dir>/<kind>-<digest of key><suffix>``: one file per store and purpose."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return private_dir() / f"{kind}-{digest}{suffix}"


def refuse_foreign(path: Path, what: str) -> None:
    """Raise ``ConfigurationError`` if ``path`` exists as a link, a non-file or another's file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigurationError(f"the {what} {path} cannot be checked: {exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise ConfigurationError(
            f"the {what} {path} is a symbolic link; name the file itself, in a directory "
            "only this server's user can write"
        )
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"the {what} {path} is not a regular file")
    problem = _owner_problem(path, info)
    if problem is not None:
        raise ConfigurationError(f"the {what} {problem}; remove it or choose another file")


def claim_file(path: Path, what: str) -> None:
    """Make sure ``path`` is a regular file of this user with mode 0600, creating it if missing.

    ``what`` names the file in the error raised (``ConfigurationError``) when the file belongs
    to someone else or is not a regular file; an ``OSError`` is left to the caller.
    """
    refuse_foreign(path, what)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        info = os.fstat(fd)
        problem = _owner_problem(path, info)  # it may have appeared since the check above
        if problem is not None:
            raise ConfigurationError(f"the {what} {problem}; remove it or choose another file")
        if info.st_mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
