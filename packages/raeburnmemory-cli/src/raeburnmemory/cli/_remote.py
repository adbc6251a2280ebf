"""``--url``: the commands the HTTP API serves, sent to a running server.

A command that would otherwise open the store (and load the embedding model) asks a running
``raeburnmemory serve`` instead, through :class:`~raeburnmemory.api.client.MemoryClient`, which
comes with raeburnmemory-api and is imported only when ``--url`` is used. The server's errors
are the library's own exceptions on this side too, so the command prints and exits as it would
with a local store.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeAlias

from raeburnmemory.core.errors import BackendNotInstalledError, ConfigurationError

if TYPE_CHECKING:  # the client is imported when --url is used, the graph when a store is opened
    from raeburnmemory.api.client import MemoryClient
    from raeburnmemory.memory_graph import MemoryGraph

    #: What the commands that also work through ``--url`` use: a local graph or a server's client.
    Memory: TypeAlias = "MemoryGraph | MemoryClient"

__all__ = [
    "REMOTE_COMMANDS",
    "ClientNotInstalledError",
    "is_usage_error",
    "open_client",
    "remote_hint",
    "shown_url",
]

#: The commands that work through ``--url``: what the HTTP API serves.
REMOTE_COMMANDS = frozenset(
    {"add", "show", "history", "list", "count", "update", "delete", "forget", "similar", "stats"}
)

_API_DISTRIBUTION = "raeburnmemory-api"


class ClientNotInstalledError(BackendNotInstalledError):
    """``--url`` was given and the HTTP client (raeburnmemory-api) is not installed."""

    def __init__(self, reason: str) -> None:
        ConfigurationError.__init__(
            self,
            f"--url needs the HTTP client of {_API_DISTRIBUTION} ({reason}): "
            f"pip install {_API_DISTRIBUTION}  (or: pip install 'raeburnmemory[api]')",
        )
        self.backend = "url"
        self.distribution = _API_DISTRIBUTION


def shown_url(url: str) -> str:
    """``url`` as messages show it: without a trailing slash, nor a password it may carry."""
    scheme, sep, rest = url.rstrip("/").partition("://")
    if not sep:
        return url.rstrip("/")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = authority.rpartition("@")[2]
    return f"{scheme}://{authority}{slash}{path}"


def open_client(url: str, api_key: str | None) -> Memory:
    """A client of the server at ``url`` (``ClientNotInstalledError`` without raeburnmemory-api)."""
    try:
        from raeburnmemory.api.client import MemoryClient
    except ImportError as exc:
        raise ClientNotInstalledError(f"{exc.name or 'it'} is not installed") from None
    if "://" not in url:
        raise ConfigurationError(
            f"--url {url!r} is no URL: give the server's address, such as http://127.0.0.1:8000"
        )
    return MemoryClient(url, api_key)


def remote_hint(exc: BaseException) -> str | None:
    """What to add to the message of an error of the HTTP layer, if ``exc`` is one."""
    errors = sys.modules.get("raeburnmemory.api.errors")
    if errors is None:  # the client was never imported: no error of its own
        return None
    if isinstance(exc, errors.AuthenticationError):
        return "give the server's key with --api-key or RAEBURN_API_KEY"
    if isinstance(exc, errors.RateLimitedError):
        return f"the server takes more in {exc.retry_after:g} s"
    return None


def is_usage_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the server refusing the request's fields (HTTP 422)."""
    errors = sys.modules.get("raeburnmemory.api.errors")
    return errors is not None and isinstance(exc, errors.InvalidRequestError)
