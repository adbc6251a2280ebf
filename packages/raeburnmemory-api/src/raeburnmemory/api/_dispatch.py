"""Where a search runs: on the event loop when it is quick and cannot wait, else in a thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

__all__ = ["SearchDispatcher"]

T = TypeVar("T")

# Weight of the newest search in the running average of search times.
_SMOOTHING = 0.2


class SearchDispatcher:
    """Runs quick searches directly on the event loop and the others in the thread pool.

    Handing a call to a worker thread and back costs about a quarter of a millisecond on a
    busy machine: as much as a whole in-memory search of 10,000 prompts. So a search runs on
    the event loop when

    - the request is cheap (the caller says so: a short text, a few hits),
    - this worker's searches have been taking less than ``inline_below`` seconds on average,
    - and the search can start without waiting for anything (``nowait`` answers ``None``
      otherwise: another thread holds the graph, another process's changes must be read
      under its lock, or the search goes over the network).

    Every other search, and any until the first one has been timed, runs in the thread pool.
    """

    def __init__(self, inline_below: float = 0.003) -> None:
        self.inline_below = inline_below
        self._typical: float | None = None

    @property
    def quick(self) -> bool:
        """Whether searches of this worker have been quick enough to run on the event loop."""
        typical = self._typical
        return typical is not None and typical < self.inline_below

    async def run(
        self, nowait: Callable[[], T | None], search: Callable[[], T], *, cheap: bool
    ) -> T:
        """The answer of ``nowait`` on the event loop if it gives one, else of ``search``."""
        if cheap and self.quick:
            began = time.perf_counter()
            answer = nowait()
            if answer is not None:
                self._record(time.perf_counter() - began)
                return answer
        return await anyio.to_thread.run_sync(self._timed, search)

    def _timed(self, search: Callable[[], T]) -> T:
        began = time.perf_counter()
        try:
            return search()
        finally:
            self._record(time.perf_counter() - began)

    def _record(self, took: float) -> None:
        typical = self._typical
        self._typical = took if typical is None else typical + _SMOOTHING * (took - typical)
