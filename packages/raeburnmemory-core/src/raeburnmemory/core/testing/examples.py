"""How many examples a property test draws: the count it names, scaled for quicker runs.

``RAEBURN_TEST_EXAMPLES`` (a number, default ``1``) multiplies every count given to
:func:`examples`; the test sessions of the Pythons other than the main one run at a quarter,
so every property still runs on every Python while the full search runs once.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypothesis import HealthCheck, settings

__all__ = ["EXAMPLES_VARIABLE", "contract_settings", "examples"]

#: The environment variable holding the share of each test's examples to draw.
EXAMPLES_VARIABLE = "RAEBURN_TEST_EXAMPLES"
_FEWEST = 5


def examples(count: int) -> int:
    """``count`` scaled by ``RAEBURN_TEST_EXAMPLES`` (at least 5, never more than asked x scale)."""
    raw = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    try:
        scale = float(raw) if raw else 1.0
    except ValueError:
        raise ValueError(f"{EXAMPLES_VARIABLE} must be a number, not {raw!r}") from None
    if scale <= 0:
        raise ValueError(f"{EXAMPLES_VARIABLE} must be above 0, not {raw!r}")
    return max(_FEWEST, round(count * scale))


def contract_settings(count: int, *also: HealthCheck) -> settings:
    """The settings of a contract's property test on the contract's fixtures: :func:`examples`
    of ``count``, no deadline, and the health checks such a test trips (slow data, fixtures of
    function scope, one test run by several subclasses) suppressed, with ``also``."""
    from hypothesis import HealthCheck, settings

    suppressed = [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.differing_executors,
        *also,
    ]
    return settings(max_examples=examples(count), deadline=None, suppress_health_check=suppressed)
