"""Telling "Qdrant cannot be reached right now" apart from every other failure."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import httpx
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from raeburnmemory.core.errors import RaeburnMemoryError, StoreError, StoreUnavailableError
from raeburnmemory.qdrant.settings import QdrantSettings

# Server answers that mean "try again later": overloaded, restarting, behind a failing proxy.
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def is_unavailable(exc: BaseException, settings: QdrantSettings) -> bool:
    """Whether ``exc`` means Qdrant is down or out of reach (the change should wait)."""
    if isinstance(exc, StoreError):  # the pool could not (re)open the local folder
        return True
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code in _RETRYABLE_STATUS
    if isinstance(exc, (ResponseHandlingException, httpx.TransportError, OSError)):
        return True
    # Local mode: a client closed underneath ("QdrantLocal instance is closed"), or its SQLite
    # file failing (disk full, folder removed).
    return settings.local and isinstance(exc, (RuntimeError, sqlite3.Error))


def describe(exc: BaseException) -> str:
    """A one-line reason, without the raw response dump."""
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
        f"Qdrant at {settings.where} cannot be reached while {doing}: {describe(exc)}"
    )


def failed(settings: QdrantSettings, exc: BaseException, doing: str) -> StoreError:
    """The error raised when Qdrant refused an operation for another reason than being down."""
    if isinstance(exc, StoreError):
        return exc
    return StoreError(
        f"Qdrant at {settings.where} (collection {settings.collection!r}) failed while {doing}: "
        f"{describe(exc)}"
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
