"""Where a search runs: on the event loop when searches are quick, else in the thread pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import anyio.to_thread

__all__ = ["SearchDispatcher"]

T = TypeVar("T")

# Weight of the newest search in the running average of search times.
_SMOOTHING = 0.2


class SearchDispatcher:
    """Runs quick searches directly on the event loop and slow ones in the thread pool.

    Handing a call to a worker thread and back costs about a quarter of a millisecond on a
    busy machine: as much as a whole in-memory search of 10,000 prompts. So a search runs on
    the event loop while this worker's searches have been taking less than ``inline_below``
    seconds on average and no other request is using the memory graph from the thread pool
    (the search would then wait for the graph's lock and hold up the loop meanwhile). Searches
    that go over the network or scan a large table stay in the thread pool, and so does any
    search until the first one has been timed.
    """

    def __init__(self, inline_below: float = 0.003) -> None:
        self.inline_below = inline_below
        self.in_pool = 0
        self._typical: float | None = None

    @property
    def inline(self) -> bool:
        """Whether the next search would run on the event loop."""
        typical = self._typical
        return self.in_pool == 0 and typical is not None and typical < self.inline_below

    @contextmanager
    def pooled(self) -> Iterator[None]:
        """Count a request that uses the memory graph from the thread pool (event loop only)."""
        self.in_pool += 1
        try:
            yield
        finally:
            self.in_pool -= 1

    async def run(self, search: Callable[[], T]) -> T:
        """Call ``search`` where it costs least, and time it."""
        if self.inline:
            return self._timed(search)
        with self.pooled():
            return await anyio.to_thread.run_sync(self._timed, search)

    def _timed(self, search: Callable[[], T]) -> T:
        began = time.perf_counter()
        try:
            return search()
        finally:
            took = time.perf_counter() - began
            typical = self._typical
            self._typical = took if typical is None else typical + _SMOOTHING * (took - typical)
