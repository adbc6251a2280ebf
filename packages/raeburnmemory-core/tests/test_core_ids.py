"""Generated ids: unique across processes, in time order as text."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from raeburnmemory.core import ids
from raeburnmemory.core.ids import id_time, new_id
from raeburnmemory.core.limits import id_problem

MAKE_IDS = (
    "from raeburnmemory.core.ids import new_id\nprint('\\n'.join(new_id() for _ in range({n})))"
)


def test_an_id_is_a_uuid7_the_id_rule_accepts() -> None:
    value = new_id()
    parsed = uuid.UUID(value)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert str(parsed) == value
    assert id_problem(value) is None


def test_ids_made_in_a_row_sort_in_the_order_they_were_made() -> None:
    made = [new_id() for _ in range(20_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_an_id_tells_when_it_was_made() -> None:
    before = datetime.now(timezone.utc) - timedelta(milliseconds=2)
    made = id_time(new_id())
    after = datetime.now(timezone.utc) + timedelta(milliseconds=2)
    assert made is not None
    assert before <= made <= after


@pytest.mark.parametrize(
    "value",
    [
        "p1",
        "8f4aeba5-1da5-40dc-9e3a-4115016f5e30",  # version 4
        "0193A8E2-5B1C-7D2E-9F00-3C4D5E6F7A8B",  # version 7, but not as new_id writes it
        "",
        None,
    ],
)
def test_other_ids_have_no_time(value: object) -> None:
    assert id_time(value) is None  # type: ignore[arg-type]


def test_order_holds_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    first = new_id()
    # The wall clock jumps an hour into the past, as after an NTP correction.
    back = time.time_ns() - 3_600 * 10**9
    monkeypatch.setattr(ids.time, "time_ns", lambda: back)
    later = [new_id() for _ in range(5_000)]  # more than one millisecond's counter
    assert [first, *later] == sorted([first, *later])
    assert len(set(later)) == len(later)


def test_processes_making_ids_at_once_never_collide() -> None:
    code = MAKE_IDS.format(n=20_000)
    runs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0].split() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    everything = [value for output in outputs for value in output]
    assert len(everything) == 80_000
    assert len(set(everything)) == len(everything)
    for output in outputs:
        assert output == sorted(output)
