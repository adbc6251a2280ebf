"""Whether Qdrant is out of reach, and when a write should try it again.

While Qdrant is down, a write that tried it on every call would wait for a timeout each time
(against a host that drops packets, the whole request timeout). So after a failure, writes stop
trying for a while, one second at first and doubling up to thirty; searches, counts and ``sync``
still try every time, since they need an answer. The first failure and the recovery are logged.
"""

from __future__ import annotations

import logging
import time

_log = logging.getLogger("raeburnmemory.qdrant")

#: Seconds writes leave Qdrant alone after a first failure, and at most after many.
FIRST_WAIT_S = 1.0
MAX_WAIT_S = 30.0


class Outage:
    """The state of one index's connection to Qdrant."""

    def __init__(self, where: str) -> None:
        self._where = where
        #: What the last attempt raised, or ``None`` while Qdrant answers.
        self.reason: BaseException | None = None
        self._wait = 0.0
        self._retry_at = 0.0

    def may_retry(self) -> bool:
        """Whether a write should try Qdrant now."""
        return self.reason is None or time.monotonic() >= self._retry_at

    def failed(self, reason: BaseException, doing: str, message: str) -> None:
        """Record a failed attempt (logging the first of an outage)."""
        if self.reason is None:
            _log.warning(
                "Qdrant at %s cannot be reached while %s (%s); the store has every change and "
                "they will be pushed on a later write, search or sync()",
                self._where,
                doing,
                message,
            )
            self._wait = FIRST_WAIT_S
        else:
            self._wait = min(self._wait * 2, MAX_WAIT_S)
        self.reason = reason
        self._retry_at = time.monotonic() + self._wait

    def recovered(self, pushed: int) -> None:
        """Record that Qdrant answered again (logging the end of an outage)."""
        if self.reason is not None:
            _log.warning(
                "Qdrant at %s is reachable again: %d waiting changes were pushed",
                self._where,
                pushed,
            )
        self.reason = None
        self._wait = 0.0
