"""The SQLite rate limiter: a sliding minute, shared by every process using one file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from raeburnmemory.api.ratelimit import SQLiteRateLimiter, default_rate_limit_db
from raeburnmemory.core.errors import ConfigurationError


def test_limit_then_refusal_then_recovery(tmp_path: Path) -> None:
    limiter = SQLiteRateLimiter(tmp_path / "rl.db", limit=3)
    decisions = [limiter.hit("1.2.3.4", now=1000.0 + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert decisions[3].retry_after == 57  # the first one leaves the window at 1060
    assert not limiter.hit("1.2.3.4", now=1059.5).allowed
    assert limiter.hit("1.2.3.4", now=1060.5).allowed  # the oldest left the window
    assert not limiter.hit("1.2.3.4", now=1060.6).allowed
    limiter.close()


def test_clients_are_counted_apart(tmp_path: Path) -> None:
    limiter = SQLiteRateLimiter(tmp_path / "rl.db", limit=1)
    assert limiter.hit("a", now=5.0).allowed
    assert limiter.hit("b", now=5.0).allowed
    assert not limiter.hit("a", now=6.0).allowed
    limiter.close()


def test_two_limiters_on_one_file_share_the_count(tmp_path: Path) -> None:
    first = SQLiteRateLimiter(tmp_path / "rl.db", limit=4)
    second = SQLiteRateLimiter(tmp_path / "rl.db", limit=4)
    allowed = [(first if i % 2 else second).hit("c", now=10.0 + i).allowed for i in range(8)]
    assert allowed.count(True) == 4
    first.close()
    second.close()


_HAMMER = """
import sys
from raeburnmemory.api.ratelimit import SQLiteRateLimiter
limiter = SQLiteRateLimiter(sys.argv[1], limit=25)
print(sum(limiter.hit("shared").allowed for _ in range(20)))
"""


def test_processes_never_exceed_the_limit_together(tmp_path: Path) -> None:
    command = [sys.executable, "-c", _HAMMER, str(tmp_path / "rl.db")]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [worker.communicate(timeout=60)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert sum(int(out) for out in outputs) == 25


def test_default_file_is_per_store(tmp_path: Path) -> None:
    one = default_rate_limit_db(str(tmp_path / "a.json"))
    assert one == default_rate_limit_db(str(tmp_path / "a.json"))
    assert one != default_rate_limit_db(str(tmp_path / "b.json"))


def test_unusable_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(ConfigurationError, match=r"dir\.db is not a regular file"):
        SQLiteRateLimiter(tmp_path / "dir.db", limit=1)
