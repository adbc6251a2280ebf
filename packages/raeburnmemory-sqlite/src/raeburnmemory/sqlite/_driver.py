"""Picks the SQLite driver and opens connections with the store's settings.

The standard library's ``sqlite3`` is used when it can load extensions. Many Python builds
leave ``enable_load_extension`` out; then ``sqlean`` (sqlean-py, a drop-in ``sqlite3`` with its
own SQLite) is used when it is installed, because sqlite-vec is an extension. One driver serves
the whole process: two copies of the SQLite library on one file in one process can break each
other's POSIX locks.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from raeburnmemory.core.errors import BackendNotInstalledError, ConfigurationError
from raeburnmemory.sqlite._access import Access, uri_for

__all__ = ["DRIVER_ENV", "Driver", "connect", "driver", "errors", "require_vec"]

#: Environment variable that picks the driver (``sqlite3`` or ``sqlean``) for the process.
DRIVER_ENV = "RAEBURN_SQLITE_DRIVER"
#: How pip installs what the ``"sqlite-vec"`` vector backend needs.
VEC_DISTRIBUTION = "'raeburnmemory-sqlite[sqlite-vec]'"


@dataclass(frozen=True)
class Driver:
    """The DB-API module in use and whether it can load sqlite-vec."""

    module: ModuleType
    vec: ModuleType | None

    @property
    def name(self) -> str:
        """``"sqlite3"`` or ``"sqlean"``."""
        return self.module.__name__

    @property
    def sqlite_version(self) -> str:
        """The version of the SQLite library the driver links."""
        return str(self.module.sqlite_version)


def _can_load_extensions(module: ModuleType) -> bool:
    return hasattr(module.Connection, "enable_load_extension")


def _import(name: str) -> ModuleType | None:
    try:
        return __import__(name)
    except ImportError:
        return None


@functools.cache
def driver() -> Driver:
    """The process-wide driver: stdlib ``sqlite3`` if it loads extensions, else ``sqlean``.

    ``RAEBURN_SQLITE_DRIVER=sqlite3`` (or ``sqlean``) picks one for the whole process.
    """
    vec = _import("sqlite_vec")
    chosen = os.environ.get(DRIVER_ENV, "").strip().lower()
    if chosen == "sqlite3":
        return Driver(sqlite3, vec if _can_load_extensions(sqlite3) else None)
    if chosen not in ("", "sqlean"):
        raise ConfigurationError(f"{DRIVER_ENV} must be 'sqlite3' or 'sqlean', not {chosen!r}")
    if chosen != "sqlean" and _can_load_extensions(sqlite3):
        return Driver(sqlite3, vec)
    sqlean = _import("sqlean")
    if sqlean is not None and _can_load_extensions(sqlean):
        return Driver(sqlean, vec)
    if chosen == "sqlean":
        raise BackendNotInstalledError("vector", "sqlite-vec", VEC_DISTRIBUTION, "sqlite")
    return Driver(sqlite3, vec if _can_load_extensions(sqlite3) else None)


def require_vec() -> None:
    """Raise ``BackendNotInstalledError`` unless sqlite-vec can be loaded."""
    if driver().vec is None:
        raise BackendNotInstalledError("vector", "sqlite-vec", VEC_DISTRIBUTION, "sqlite")


def _load_vec(conn: sqlite3.Connection) -> bool:
    current = driver()
    if current.vec is None:
        return False
    try:
        conn.enable_load_extension(True)
        try:
            current.vec.load(conn)
        finally:
            conn.enable_load_extension(False)
    except current.module.Error:
        return False
    return True


def connect(
    path: Path,
    *,
    busy_timeout: float,
    synchronous: str,
    read_only: bool = False,
    access: Access = Access.WRITE,
) -> tuple[sqlite3.Connection, bool]:
    """A connection in autocommit mode (transactions are explicit) and whether vec0 is loaded.

    ``access`` opens it read-only or frozen (:mod:`raeburnmemory.sqlite._access`);
    ``read_only`` also skips the store's settings and sqlite-vec, for a quick look at a file.
    ``check_same_thread`` is off so :meth:`close` may close every thread's connection; each
    thread still uses only its own.
    """
    module = driver().module
    if read_only and access is Access.WRITE:
        access = Access.READ
    uri = access is not Access.WRITE
    conn = cast(
        sqlite3.Connection,
        module.connect(
            uri_for(path, access) if uri else str(path),
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=uri,
        ),
    )
    if read_only:
        return conn, False
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if access is Access.WRITE:
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn, _load_vec(conn)


def errors() -> Any:
    """The driver module, for its exception classes (``errors().OperationalError``)."""
    return driver().module
