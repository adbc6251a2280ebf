"""Pausing Python's cyclic garbage collector while a bulk step makes many lasting objects.

A batch of 100,000 interactions makes a few hundred thousand dicts and records that all stay
alive until it ends. Each time the young objects pile up, the collector runs, and its full
collections walk every object the process holds, the batch's own among them, again and again:
about a third of a large ``batch_add`` went there. Nothing a batch makes is garbage before it
ends, so the collector waits until then. Reference counting still frees what is dropped.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off for the block, then let it run as before.

    A collector the application disabled stays disabled; one paused by another thread in the
    meantime is enabled again when the first block to pause it ends.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
