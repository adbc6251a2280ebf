"""The asynchronous methods' way to run a blocking call in a worker thread.

``asyncio`` (with ``concurrent.futures`` and ``logging`` behind it) is imported when a coroutine
first runs rather than when the library is imported, so a program that never awaits, such as
one command of the command line, does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["in_thread"]

T = TypeVar("T")


async def in_thread(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``await asyncio.to_thread(func, *args, **kwargs)``."""
    import asyncio

    return await asyncio.to_thread(func, *args, **kwargs)
