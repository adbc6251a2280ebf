"""The JSON response of an error of the library or of the HTTP layer."""

from __future__ import annotations

from starlette.responses import JSONResponse

from raeburnmemory.api.errors import (
    AuthenticationError,
    RateLimitedError,
    error_body,
    error_type,
    status_for,
)
from raeburnmemory.core.errors import RaeburnMemoryError

__all__ = ["error_response"]


def error_response(exc: RaeburnMemoryError) -> JSONResponse:
    """The answer to ``exc``: its status, the one error shape, and the headers it calls for."""
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="raeburnmemory"'
    elif isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return JSONResponse(error_body(error_type(exc), str(exc)), status_for(exc), headers=headers)
