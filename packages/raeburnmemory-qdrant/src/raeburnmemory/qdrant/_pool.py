"""One Qdrant client per server, and one Edge shard per store, per process, reference-counted.

Every MemoryGraph and thread of a process that uses one store's shard shares one open shard (a
shard may be open once), and graphs using one server share its client. The pool hands out
leases; the last lease to go closes the client or shard, and whatever is still open when the
interpreter exits is closed then. A forked child starts with an empty pool and never touches
the parent's shards.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from raeburnmemory.qdrant._shard import ShardHandle
from raeburnmemory.qdrant.settings import QdrantSettings

if TYPE_CHECKING:  # imported when a server is used: qdrant-client takes seconds to import
    from qdrant_client import QdrantClient

_REMOTE_TIMEOUT_S = 10

_log = logging.getLogger("raeburnmemory.qdrant")

_Key = tuple[str, ...]


def _key(settings: QdrantSettings) -> _Key:
    if settings.path is not None:
        return ("shard", str(settings.path), settings.collection)
    return ("url", str(settings.url), settings.api_key or "")


class _Entry:
    def __init__(self, settings: QdrantSettings) -> None:
        self.settings = settings
        self.client: QdrantClient | None = None
        self.shard: ShardHandle | None = None
        if settings.local:
            self.shard = ShardHandle(settings)
        else:
            from qdrant_client import QdrantClient

            self.client = QdrantClient(
                url=settings.url,
                api_key=settings.api_key,
                timeout=_REMOTE_TIMEOUT_S,
                check_compatibility=False,
            )
        self.refs = 0
        # A shard takes one call at a time. A server client is thread-safe, so its calls run
        # concurrently.
        self.lock: AbstractContextManager[Any] = (
            threading.RLock() if settings.local else contextlib.nullcontext()
        )

    def close(self) -> None:
        with self.lock:
            try:
                if self.shard is not None:
                    self.shard.close()
                if self.client is not None:
                    self.client.close()
            except Exception as exc:  # the store keeps every change: the next open restores it
                _log.warning("closing Qdrant at %s failed: %s", self.settings.where, exc)


class Lease:
    """A share of a pooled client or shard; give it back with :meth:`release` (twice is fine)."""

    def __init__(self, key: _Key, entry: _Entry) -> None:
        self._key = key
        self._entry = entry
        self._released = False

    @property
    def client(self) -> QdrantClient:
        """The shared server client."""
        if self._entry.client is None:
            raise TypeError("this lease holds an embedded shard, not a server client")
        return self._entry.client

    @property
    def shard(self) -> ShardHandle:
        """The shared shard."""
        if self._entry.shard is None:
            raise TypeError("this lease holds a server client, not an embedded shard")
        return self._entry.shard

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Hold it around every call (a real lock only for a shard)."""
        return self._entry.lock

    def reopen_if_closed(self) -> None:
        """Take the shard again when it was closed (at exit, or underneath)."""
        shard = self._entry.shard
        if shard is not None and shard.closed:
            with self._entry.lock:
                shard.take()

    def release(self) -> None:
        """Give the share back; the last one closes the client or shard."""
        with _pool_lock:
            if self._released:
                return
            self._released = True
            self._entry.refs -= 1
            if self._entry.refs <= 0 and _entries.get(self._key) is self._entry:
                del _entries[self._key]
                self._entry.close()


_pool_lock = threading.Lock()
_entries: dict[_Key, _Entry] = {}


def acquire(settings: QdrantSettings) -> Lease:
    """A lease on the process's client or shard for ``settings``, opening it if needed.

    For a shard, raises ``StoreLockedError`` when another process holds it.
    """
    key = _key(settings)
    with _pool_lock:
        entry = _entries.get(key)
        if entry is None:
            entry = _Entry(settings)
            _entries[key] = entry
        entry.refs += 1
        return Lease(key, entry)


@atexit.register
def close_all() -> None:
    """Close every pooled client and shard (run at interpreter exit).

    Leases stay valid: a shard closed this way is taken and opened again on its next use.
    """
    with _pool_lock:
        entries = list(_entries.values())
    for entry in entries:
        entry.close()


def _forget_after_fork() -> None:
    global _pool_lock
    _pool_lock = threading.Lock()
    for entry in _entries.values():
        if entry.shard is not None:
            entry.shard.forget()
    _entries.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
