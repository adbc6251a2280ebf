"""What one server process holds while it runs: its settings, its memory graph, its limiter.

Each worker process opens its own ``MemoryGraph`` on the shared store when the application
starts (never at import), and the request gate (rate limit, then API key) reads it here.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import Request
from filelock import FileLock
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from raeburnmemory.api._clients import TrustedProxies
from raeburnmemory.api._dispatch import SearchDispatcher
from raeburnmemory.api._private import claim_file, state_file
from raeburnmemory.api._sockets import enable_nodelay_on_listeners
from raeburnmemory.api.errors import ApiError, AuthenticationError, ForbiddenError
from raeburnmemory.api.keys import DEFAULT_NAMESPACE, OPEN_GRANT, KeyGrant, KeyRing
from raeburnmemory.api.namespaces import namespace_settings
from raeburnmemory.api.ratelimit import SQLiteRateLimiter, default_rate_limit_db
from raeburnmemory.api.settings import DEFAULT_MAX_BODY_BYTES, Settings
from raeburnmemory.core.errors import ConfigurationError

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph

__all__ = ["GRANT_STATE", "Runtime", "grant_of", "memory_of", "memory_with", "runtime_of"]

#: Where the gate leaves the request's :class:`KeyGrant` in the ASGI scope's ``state``.
GRANT_STATE = "raeburn_grant"

logger = logging.getLogger("raeburnmemory.api")


_thread_state = threading.local()
# Seconds a worker waits for the others of its host to finish opening the store.
_OPEN_TIMEOUT = 600.0


def _limit_blas_threads(threads: int) -> None:
    """Let the BLAS libraries of this process use at most ``threads`` threads (process-wide).

    A worker serves many requests at once, so the threads a BLAS library starts for one
    single-query search only fight over the cores with the other requests: on a busy 2-core
    machine a search of 10,000 prompts took 12 ms with two threads and 3 ms with one.
    """
    threadpool_limits(limits=threads, user_api="blas")


def _limit_openmp_threads(threads: int) -> None:
    """The same for FAISS's OpenMP threads, which OpenMP counts per calling thread."""
    if getattr(_thread_state, "search_threads", None) == threads:
        return
    faiss = sys.modules.get("faiss")  # loaded by the first search that uses it
    if faiss is not None:
        faiss.omp_set_num_threads(threads)
        _thread_state.search_threads = threads


def _open_memory(settings: Settings) -> MemoryGraph:
    """Open the settings' memory graph, one worker of this host at a time.

    The workers of a server start together, and a store opened for the first time by several
    processes at the same moment may trip over its own set-up (creating files, tables or a
    database extension); taking turns on a host-wide lock avoids that.
    """
    from raeburnmemory.core.memory import MemoryGraph

    kwargs = settings.memory_kwargs()
    key = json.dumps(kwargs, sort_keys=True, default=str)
    lock = state_file("open", key, ".lock")
    try:
        claim_file(lock, "start-up lock")
    except OSError as exc:
        raise ConfigurationError(f"the start-up lock {lock} cannot be made: {exc}") from None
    with FileLock(lock, timeout=_OPEN_TIMEOUT, mode=0o600):
        try:
            return MemoryGraph(**kwargs)
        except ConfigurationError as exc:
            if settings.options and "option" in str(exc):
                raise ConfigurationError(f"RAEBURN_STORE_OPTIONS: {exc}") from exc
            raise


def _announce_encoder(memory: MemoryGraph) -> None:
    """Load the encoder now, so that a missing model is said once, at start-up, in the log."""
    from raeburnmemory.core.encoders import EncoderFallbackWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EncoderFallbackWarning)
        memory.encoder_name  # noqa: B018 - loads the model, or falls back and warns
    for warning in caught:
        if issubclass(warning.category, EncoderFallbackWarning):
            logger.warning("%s", warning.message)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )


class Runtime:
    """The state of one running application; filled in at start-up, emptied at shutdown."""

    def __init__(self, settings: Settings | None, memory: MemoryGraph | None) -> None:
        self.configured = settings
        self.settings: Settings | None = settings
        self.memory: MemoryGraph | None = memory
        self.owns_memory = memory is None
        #: The open store of each namespace, the default one included.
        self.memories: dict[str, MemoryGraph] = {}
        self.keys = KeyRing()
        self.limiter: SQLiteRateLimiter | None = None
        self.proxies = TrustedProxies()
        self.searches = SearchDispatcher()
        self.startup_error: str | None = None

    @property
    def max_body_bytes(self) -> int:
        """The body size limit in force (the default until start-up read the settings)."""
        return self.settings.max_body_bytes if self.settings else DEFAULT_MAX_BODY_BYTES

    def start(self) -> None:
        """Read the settings, open the memory graph and the rate limiter (blocking)."""
        settings = self.configured or Settings.from_env()
        settings.check()
        self.settings = settings
        self.keys = settings.key_ring()  # a bad keys file stops the start, before any store opens
        self.proxies = TrustedProxies(settings.trusted_proxies)
        enable_nodelay_on_listeners()
        if settings.search_threads > 0:
            _limit_blas_threads(settings.search_threads)
        if self.memory is None:
            self.memory = _open_memory(settings)
            self.owns_memory = True
            _announce_encoder(self.memory)
        self.memories = {DEFAULT_NAMESPACE: self.memory}
        for namespace in self.keys.namespaces():
            if namespace not in self.memories:
                self.memories[namespace] = _open_memory(namespace_settings(settings, namespace))
        if settings.rate_limit > 0:
            path = settings.rate_limit_db or default_rate_limit_db(str(self.memory.location))
            self.limiter = SQLiteRateLimiter(path, settings.rate_limit)
        if self.keys.empty:
            logger.warning(
                "RAEBURN_API_KEY is not set: every /memory route is open to anyone who can "
                "reach this server"
            )

    def stop(self) -> None:
        """Close what :meth:`start` opened."""
        if self.limiter is not None:
            self.limiter.close()
            self.limiter = None
        for namespace, memory in self.memories.items():
            if namespace != DEFAULT_NAMESPACE:
                memory.close()
        self.memories = {}
        if self.memory is not None and self.owns_memory:
            self.memory.close()
            self.memory = None

    def limit_search_threads(self) -> None:
        """Apply ``search_threads`` to the calling thread (call it where searches run)."""
        if self.settings is not None and self.settings.search_threads > 0:
            _limit_openmp_threads(self.settings.search_threads)

    def check_key(self, key: str | None) -> KeyGrant:
        """What ``key`` may do; ``AuthenticationError`` unless it is one of the server's keys.

        A server without any key lets everyone do everything on the default namespace.
        """
        if self.keys.empty:
            return OPEN_GRANT
        if key is None:
            raise AuthenticationError("this server needs an API key: Authorization: Bearer <key>")
        grant = self.keys.grant_for(key)
        if grant is None:
            raise AuthenticationError("the API key is not valid")
        return grant

    def memory_for(self, grant: KeyGrant) -> MemoryGraph:
        """The store of the grant's namespace (HTTP 503 before start-up completed)."""
        memory = self.memories.get(grant.namespace)
        if memory is None:
            raise ApiError("the server has not finished starting", status=503)
        return memory


def runtime_of(request: Request) -> Runtime:
    """The runtime of the application serving ``request``."""
    runtime: Runtime = request.app.state.raeburn
    return runtime


def grant_of(request: Request) -> KeyGrant:
    """What the key of ``request`` may do, as the gate found it."""
    grant = request.scope.get("state", {}).get(GRANT_STATE)
    return grant if isinstance(grant, KeyGrant) else OPEN_GRANT


def memory_with(scope: str) -> Callable[[Request], Awaitable[MemoryGraph]]:
    """A dependency: the store of the request key's namespace, if the key has ``scope``.

    A key without ``scope`` gets HTTP 403 before anything is read or changed.
    """

    async def memory(request: Request) -> MemoryGraph:
        grant = grant_of(request)
        if not grant.allows(scope):
            raise ForbiddenError(f"this API key does not have the {scope!r} scope")
        return runtime_of(request).memory_for(grant)

    memory.__name__ = f"memory_with_{scope}"
    return memory


#: The store of the request key's namespace, for a key that may read.
memory_of = memory_with("read")
