"""Keep a search's matrix work from fighting a neural model's threads over the cores.

With torch in the process, its OpenMP threads stay busy a while after each ``encode()``; numpy's
BLAS then starts as many threads again for the search's matrix product, and on a small machine
the two pools take turns on the same cores (a 6 ms search took 20 to 100 ms). While a search runs,
:func:`search_threads` limits BLAS to one thread, which is all a single query's product needs,
and puts the previous limit back afterwards: the caller's own settings are left as they were.
Without torch in the process nothing is changed.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any

__all__ = ["search_threads"]

_controller: Any = None
_lock = threading.Lock()


def _blas_controller() -> Any:
    """A threadpoolctl controller of the BLAS libraries loaded now (made once)."""
    global _controller
    with _lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

            _controller = ThreadpoolController().select(user_api="blas")
        return _controller


def search_threads() -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS uses one thread, when a neural model (torch) is loaded."""
    if "torch" not in sys.modules:
        return contextlib.nullcontext()
    return _blas_controller().limit(limits=1)  # type: ignore[no-any-return]
