"""Time-ordered unique ids for the prompts and responses a tool call records without ids.

An id is a UUID version 7 (RFC 9562) in its usual text form: 48 bits of Unix milliseconds, then
random bits, so ids sort by creation time across processes and machines, and ids made by one
process sort in the order they were made even within one millisecond.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ["new_id"]

_lock = threading.Lock()
_last = 0  # the last 128-bit value this process handed out


def _fresh(millis: int) -> int:
    rand_a = int.from_bytes(os.urandom(2), "big") & 0x0FFF
    rand_b = int.from_bytes(os.urandom(8), "big") & 0x3FFF_FFFF_FFFF_FFFF
    return (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b


def new_id() -> str:
    """A new UUID version 7, greater than every id this process made before."""
    global _last
    with _lock:
        value = _fresh(time.time_ns() // 1_000_000)
        if value <= _last:
            # Same millisecond (or a clock step back): count on from the last id, keeping the
            # version and variant bits, so the order holds within this process.
            value = _last + 1
            if (value >> 62) & 0b11 != 0b10:  # rand_b overflowed into the variant bits
                value = (value & ~(0b11 << 62)) | (0b10 << 62)
                value += 1 << 64  # carry into rand_a
        _last = value
    return str(uuid.UUID(int=value))
