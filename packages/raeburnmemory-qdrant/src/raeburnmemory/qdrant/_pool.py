"""One Qdrant client per server or local folder per process, shared and reference-counted.

Qdrant's local mode locks its folder for one client at a time, in this process as in any other,
so every MemoryGraph and thread of a process that uses one folder must share one client. The
pool hands out leases on that client; the last lease to go closes it, and whatever is still open
when the interpreter exits is closed then.
"""

from __future__ import annotations

import atexit
import contextlib
import sqlite3
import threading
from contextlib import AbstractContextManager
from typing import Any

from qdrant_client import QdrantClient

from raeburnmemory.core.errors import StoreLockedError, StoreUnavailableError
from raeburnmemory.qdrant.settings import QdrantSettings

_REMOTE_TIMEOUT_S = 10

_Key = tuple[str, ...]


def _key(settings: QdrantSettings) -> _Key:
    if settings.path is not None:
        return ("path", str(settings.path))
    return ("url", str(settings.url), settings.api_key or "")


def _folder_in_use(settings: QdrantSettings) -> StoreLockedError:
    error = StoreLockedError(settings.where, 0)
    error.args = (
        f"{settings.where}: this Qdrant local folder is in use by another process. Local mode "
        "allows one process per folder; to share the vectors between several processes, run a "
        "Qdrant server (docker run -p 6333:6333 qdrant/qdrant) and pass qdrant_url= (or set "
        "RAEBURN_QDRANT_URL)",
    )
    return error


def tune_local_storage(client: QdrantClient) -> None:
    """Let local-mode collections commit without an fsync per point.

    Local mode stores each point in SQLite with its own commit; in WAL mode with
    ``synchronous=NORMAL`` a commit survives a crash of the process but skips the fsync, which
    makes batch upserts dozens of times faster. The store stays the source of truth: what a power
    cut takes back is restored by the next ``sync``. Does nothing when the client's internals are
    not the expected ones.
    """
    collections = getattr(getattr(client, "_client", None), "collections", None)
    if not isinstance(collections, dict):
        return
    for collection in collections.values():
        connection = getattr(getattr(collection, "storage", None), "storage", None)
        if isinstance(connection, sqlite3.Connection):
            with contextlib.suppress(sqlite3.Error):
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")


def _open(settings: QdrantSettings) -> QdrantClient:
    if settings.path is None:
        return QdrantClient(
            url=settings.url,
            api_key=settings.api_key,
            timeout=_REMOTE_TIMEOUT_S,
            check_compatibility=False,
        )
    try:
        settings.path.mkdir(parents=True, exist_ok=True)
        # Calls are serialized by the lease's lock, so SQLite may be used from any thread.
        client = QdrantClient(path=str(settings.path), force_disable_check_same_thread=True)
    except RuntimeError as exc:
        if "already accessed" in str(exc):
            raise _folder_in_use(settings) from None
        raise StoreUnavailableError(f"{settings.where}: cannot open Qdrant: {exc}") from exc
    except OSError as exc:
        raise StoreUnavailableError(f"{settings.where}: cannot open Qdrant: {exc}") from exc
    tune_local_storage(client)
    return client


def _client_closed(client: QdrantClient) -> bool:
    return bool(getattr(getattr(client, "_client", None), "closed", False))


class _Entry:
    def __init__(self, settings: QdrantSettings) -> None:
        self.settings = settings
        self.client = _open(settings)
        self.refs = 0
        # Local mode is plain Python over SQLite: one call at a time. A server client is
        # thread-safe, so its calls run concurrently.
        self.lock: AbstractContextManager[Any] = (
            threading.RLock() if settings.local else contextlib.nullcontext()
        )


class ClientLease:
    """A share of a pooled client; give it back with :meth:`release` (twice is harmless)."""

    def __init__(self, key: _Key, entry: _Entry) -> None:
        self._key = key
        self._entry = entry
        self._released = False

    @property
    def client(self) -> QdrantClient:
        """The shared client."""
        return self._entry.client

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Hold it around every call of :attr:`client` (a real lock only in local mode)."""
        return self._entry.lock

    def reopen_if_closed(self) -> None:
        """Open a new client when the shared one was closed (at exit, or underneath)."""
        with _pool_lock:
            if _client_closed(self._entry.client):
                self._entry.client = _open(self._entry.settings)

    def release(self) -> None:
        """Give the share back; the last one closes the client."""
        with _pool_lock:
            if self._released:
                return
            self._released = True
            self._entry.refs -= 1
            if self._entry.refs <= 0 and _entries.get(self._key) is self._entry:
                del _entries[self._key]
                _close(self._entry)


_pool_lock = threading.Lock()
_entries: dict[_Key, _Entry] = {}


def acquire(settings: QdrantSettings) -> ClientLease:
    """A lease on the process's client for ``settings``' server or folder, opening it if needed."""
    key = _key(settings)
    with _pool_lock:
        entry = _entries.get(key)
        if entry is None:
            entry = _Entry(settings)
            _entries[key] = entry
        entry.refs += 1
        return ClientLease(key, entry)


def _close(entry: _Entry) -> None:
    with entry.lock, contextlib.suppress(Exception):
        entry.client.close()


@atexit.register
def close_all() -> None:
    """Close every pooled client (run at interpreter exit).

    Leases stay valid: a local-mode client closed this way is opened again on its next use.
    """
    with _pool_lock:
        entries = list(_entries.values())
    for entry in entries:
        _close(entry)
