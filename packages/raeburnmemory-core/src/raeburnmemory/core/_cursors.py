"""Opaque cursors: a JSON list of fields with a checksum, as URL-safe base64 without padding.

Listings and session overviews seal the position of a page's end this way; each kind of cursor
has its own ``salt``, so one kind is never read as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from raeburnmemory.core.errors import InvalidCursorError

__all__ = ["CURSOR_VERSION", "seal", "unseal"]

#: The version of the cursors' fields, the first of them.
CURSOR_VERSION = 1
_CHECK_BYTES = 8
_MAX_LENGTH = 4096


def _checksum(salt: bytes, body: bytes) -> bytes:
    return hashlib.sha256(salt + body).digest()[:_CHECK_BYTES]


def seal(salt: bytes, fields: list[Any]) -> str:
    """The cursor holding ``fields``."""
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    data = body.encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(data + _checksum(salt, data)).decode("ascii").rstrip("=")


def unseal(cursor: object, salt: bytes, count: int, altered: str) -> list[Any]:
    """The ``count`` fields of a cursor :func:`seal` made with ``salt``; ``InvalidCursorError``
    otherwise, saying ``altered`` when the checksum does not hold."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_LENGTH:
        raise InvalidCursorError("cursor must be the non-empty text a previous page returned")
    not_ours = f"cursor {cursor[:40]!r} is not one this library made"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursorError(not_ours) from None
    body, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
    if len(raw) <= _CHECK_BYTES or _checksum(salt, body) != check:
        raise InvalidCursorError(f"cursor {cursor[:40]!r} {altered}")
    try:
        fields = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidCursorError(not_ours) from None
    if not isinstance(fields, list) or len(fields) != count:
        raise InvalidCursorError(not_ours)
    return fields
