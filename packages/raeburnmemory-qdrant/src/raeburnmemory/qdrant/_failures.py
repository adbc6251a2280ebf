"""Telling "Qdrant cannot be reached right now" apart from every other failure.

qdrant-client (and its HTTP stack) is imported only for a server: importing it costs seconds,
and embedded Qdrant Edge never raises its exceptions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from raeburnmemory.core.errors import RaeburnMemoryError, StoreError, StoreUnavailableError
from raeburnmemory.qdrant.settings import QdrantSettings

# Server answers that mean "try again later": overloaded, restarting, behind a failing proxy.
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# What Qdrant Edge's messages say when its files cannot be read or written (disk full, folder
# removed, permissions): it raises plain ``Exception`` for everything.
_EDGE_IO_WORDS = ("os error", "No space left", "Permission denied", "Read-only file system")


class CollectionMissingError(StoreError):
    """The collection or shard was removed from under this process (it is rebuilt, not awaited)."""


def _server_unavailable(exc: BaseException) -> bool:
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, UnexpectedResponse):
        return exc.status_code in _RETRYABLE_STATUS
    return isinstance(exc, (ResponseHandlingException, httpx.TransportError, OSError))


def is_unavailable(exc: BaseException, settings: QdrantSettings) -> bool:
    """Whether ``exc`` means Qdrant is down or out of reach (the change should wait)."""
    if isinstance(exc, CollectionMissingError):
        return False
    if isinstance(exc, StoreError):  # the shard is held by another process, or closed
        return True
    if not settings.local:
        return _server_unavailable(exc)
    if isinstance(exc, OSError):
        return True
    message = str(exc)
    return any(word in message for word in _EDGE_IO_WORDS)


def describe(exc: BaseException, settings: QdrantSettings) -> str:
    """A one-line reason, without a server's raw response dump."""
    if not settings.local:
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        if isinstance(exc, ResponseHandlingException):
            return str(exc.source) or type(exc.source).__name__
        if isinstance(exc, UnexpectedResponse):
            return f"HTTP {exc.status_code} {exc.reason_phrase}".strip()
    return str(exc) or type(exc).__name__


def unavailable(settings: QdrantSettings, exc: BaseException, doing: str) -> StoreError:
    """The error raised when an operation cannot wait for Qdrant to come back."""
    if isinstance(exc, StoreError):
        return exc
    return StoreUnavailableError(
        f"Qdrant at {settings.where} cannot be reached while {doing}: {describe(exc, settings)}"
    )


def failed(settings: QdrantSettings, exc: BaseException, doing: str) -> StoreError:
    """The error raised when Qdrant refused an operation for another reason than being down."""
    if isinstance(exc, StoreError):
        return exc
    return StoreError(
        f"Qdrant at {settings.where} (collection {settings.collection!r}) failed while {doing}: "
        f"{describe(exc, settings)}"
    )


@contextlib.contextmanager
def translated(settings: QdrantSettings, doing: str) -> Iterator[None]:
    """Turn what Qdrant raises inside the block into raeburnmemory's errors."""
    try:
        yield
    except RaeburnMemoryError:
        raise
    except Exception as exc:
        if is_unavailable(exc, settings):
            raise unavailable(settings, exc, doing) from exc
        raise failed(settings, exc, doing) from exc
