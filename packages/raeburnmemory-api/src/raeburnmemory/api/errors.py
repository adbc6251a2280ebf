"""The one error shape of the HTTP API, and the map between exceptions and status codes.

Every failure answers with ``{"error": {"type": ..., "message": ...}}``. For errors of the
library, ``type`` is the name of the exception class in :mod:`raeburnmemory.core.errors`
(``"NotFoundError"``, ``"ConflictError"``, ...), so :mod:`raeburnmemory.api.client` raises the
same exception on the calling side. Errors of the HTTP layer itself use the names of the
classes below.

This module imports no web framework: the client uses it too.
"""

from __future__ import annotations

import math
from typing import Any

from raeburnmemory.core import errors as core_errors
from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    CorruptStoreError,
    EmbeddingMismatchError,
    InteractionError,
    InvalidCursorError,
    InvalidInteractionError,
    NoEmbeddingsError,
    NotFoundError,
    RaeburnMemoryError,
    SearchError,
    StoreError,
    UnsupportedSearchError,
)

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ForbiddenError",
    "InvalidRequestError",
    "RateLimitedError",
    "RequestTooLargeError",
    "error_body",
    "error_for",
    "error_type",
    "status_for",
]


class ApiError(RaeburnMemoryError):
    """A failure of the HTTP layer that the library itself has no exception for."""

    #: The HTTP status the server answers with.
    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class AuthenticationError(ApiError):
    """The request carried no API key, or a wrong one (HTTP 401)."""

    status = 401


class ForbiddenError(ApiError):
    """The API key is valid but its scopes do not allow this request (HTTP 403)."""

    status = 403


class InvalidRequestError(ApiError, ValueError):
    """The request's fields do not match the API's schema (HTTP 422)."""

    status = 422


class RequestTooLargeError(ApiError):
    """The request body is larger than the server accepts (HTTP 413)."""

    status = 413


class RateLimitedError(ApiError):
    """The client sent more requests per minute than the server allows (HTTP 429)."""

    status = 429

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        #: Seconds to wait before the next request can be accepted.
        self.retry_after = retry_after


_API_ERRORS: dict[str, type[ApiError]] = {
    cls.__name__: cls
    for cls in (
        ApiError,
        AuthenticationError,
        ForbiddenError,
        InvalidRequestError,
        RequestTooLargeError,
    )
}

# Most specific first: the first class an exception is an instance of decides its status.
_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (ApiError, 0),  # its own status
    (NotFoundError, 404),
    (ConflictError, 409),
    (NoEmbeddingsError, 409),
    (InvalidCursorError, 400),
    (InvalidInteractionError, 422),
    (UnsupportedSearchError, 422),
    (ConfigurationError, 422),
    (InteractionError, 400),
    (SearchError, 400),
    (CorruptStoreError, 500),
    (EmbeddingMismatchError, 500),
    (StoreError, 503),
)

_CORE_CLASSES: dict[str, type[RaeburnMemoryError]] = {
    name: cls
    for name in core_errors.__all__
    if isinstance(cls := getattr(core_errors, name), type) and issubclass(cls, RaeburnMemoryError)
}


def status_for(exc: BaseException) -> int:
    """The HTTP status the server answers an exception with (500 for unexpected ones)."""
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return exc.status if isinstance(exc, ApiError) else status
    return 500


def error_type(exc: BaseException) -> str:
    """The ``type`` field for an exception: its nearest class the client knows by name."""
    for cls in type(exc).__mro__:
        name = cls.__name__
        if cls in (_CORE_CLASSES.get(name), _API_ERRORS.get(name), RateLimitedError):
            return name
    return "InternalError"


def error_body(type_name: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of an error response."""
    return {"error": {"type": type_name, "message": message, **extra}}


def _rebuild(cls: type[RaeburnMemoryError], message: str) -> RaeburnMemoryError:
    # Some library errors take structured arguments; on this side only the message is known.
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    return exc


def error_for(status: int, body: Any, headers: Any = None) -> RaeburnMemoryError:
    """The exception a client raises for an error response of the server."""
    detail = body.get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        detail = {}
    type_name = str(detail.get("type") or "")
    message = str(detail.get("message") or f"the server answered HTTP {status}")
    if type_name == "RateLimitedError" or status == 429:
        retry_after = _retry_after(headers)
        return RateLimitedError(message, retry_after=retry_after)
    api_cls = _API_ERRORS.get(type_name)
    if api_cls is not None:
        return api_cls(message, status=status)
    core_cls = _CORE_CLASSES.get(type_name)
    if core_cls is not None:
        return _rebuild(core_cls, message)
    for cls in (AuthenticationError, InvalidRequestError, RequestTooLargeError):
        if status == cls.status:
            return cls(message)
    return ApiError(message, status=status)


def _retry_after(headers: Any) -> float:
    raw = headers.get("retry-after") if headers is not None else None
    try:
        value = float(raw) if raw is not None else 1.0
    except ValueError:
        return 1.0
    return value if math.isfinite(value) and value >= 0 else 1.0
