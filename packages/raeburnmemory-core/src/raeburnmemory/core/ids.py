"""Ids the memory generates when the caller gives none.

A generated id is a UUID of version 7 (RFC 9562) written in its usual 36-character form, for
example ``0193a8e2-5b1c-7d2e-9f00-3c4d5e6f7a8b``. Its first 48 bits are the Unix time in
milliseconds, so ids sort as text in the order they were made, and listings sorted by id come out
in time order. The next 12 bits count ids made in the same millisecond by this process, so ids
from one process are strictly increasing even when the clock stands still or steps back; the last
62 bits are random, so ids made by other processes, on this machine or another, do not collide.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import datetime, timezone

__all__ = ["id_time", "new_id"]

_COUNTER_BITS = 12
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
_RANDOM_BITS = 62


class _Clock:
    """The last (millisecond, counter) pair handed out by this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.millis = 0
        self.counter = 0

    def next(self) -> tuple[int, int]:
        """A (millisecond, counter) pair strictly after the previous one."""
        now = time.time_ns() // 1_000_000
        with self.lock:
            if now > self.millis:
                self.millis, self.counter = now, 0
            elif self.counter < _COUNTER_MAX:
                self.counter += 1
            else:
                # 4,096 ids in one millisecond: borrow the next millisecond.
                self.millis, self.counter = self.millis + 1, 0
            return self.millis, self.counter


_CLOCK = _Clock()
if hasattr(os, "register_at_fork"):
    # A forked child starts with a lock that may be held; it gets a fresh one.
    os.register_at_fork(after_in_child=lambda: setattr(_CLOCK, "lock", threading.Lock()))


def new_id() -> str:
    """A new unique id, later in text order than every id this process made before."""
    millis, counter = _CLOCK.next()
    random_bits = int.from_bytes(os.urandom(8), "big") >> (64 - _RANDOM_BITS)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | counter << 64
    value |= 0b10 << 62 | random_bits
    return str(uuid.UUID(int=value))


def id_time(value: str) -> datetime | None:
    """When a generated id was made (UTC, to the millisecond), or ``None`` for any other id."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
    if parsed.version != 7 or str(parsed) != value:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=timezone.utc)
