"""The start-up lock and the rate counters: private to the server's user, refused if not.

Files owned by another user are made with ``os.chown``, so those tests need root.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from raeburnmemory.api import Settings
from raeburnmemory.api._private import claim_file, private_dir, state_file
from raeburnmemory.api.ratelimit import SQLiteRateLimiter
from raeburnmemory.core.errors import ConfigurationError

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

OTHER_UID = 65534  # nobody
needs_root = pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() != 0, reason="giving a file away needs root"
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _give_away(path: Path) -> None:
    os.chown(path, OTHER_UID, OTHER_UID, follow_symlinks=False)


def test_private_dir_and_files_are_owner_only(tmp_path: Path) -> None:
    folder = private_dir()
    assert folder == tmp_path / f"raeburnmemory-{os.geteuid()}"
    assert _mode(folder) == 0o700
    counters = state_file("ratelimit", "some store", ".sqlite3")
    assert counters.parent == folder
    limiter = SQLiteRateLimiter(counters, limit=3)
    assert limiter.hit("1.2.3.4").allowed
    for suffix in ("", "-wal", "-shm"):
        assert _mode(Path(f"{counters}{suffix}")) == 0o600, suffix
    limiter.close()


def test_a_loose_file_of_ours_is_closed(tmp_path: Path) -> None:
    loose = tmp_path / "limits.sqlite3"
    loose.write_bytes(b"")
    loose.chmod(0o666)
    claim_file(loose, "rate limit database")
    assert _mode(loose) == 0o600


def test_a_link_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_bytes(b"")
    (tmp_path / "limits.sqlite3").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigurationError, match="is a symbolic link"):
        SQLiteRateLimiter(tmp_path / "limits.sqlite3", limit=1)


@needs_root
def test_files_of_another_user_are_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "limits.sqlite3"
    theirs.write_bytes(b"")
    _give_away(theirs)
    with pytest.raises(ConfigurationError, match=r"limits\.sqlite3 belongs to another user"):
        SQLiteRateLimiter(theirs, limit=1)
    ours = tmp_path / "ours.sqlite3"
    Path(f"{ours}-wal").write_bytes(b"")
    _give_away(Path(f"{ours}-wal"))
    with pytest.raises(ConfigurationError, match=r"ours\.sqlite3-wal belongs to another user"):
        SQLiteRateLimiter(ours, limit=1)
    folder = tmp_path / f"raeburnmemory-{os.geteuid()}"
    folder.mkdir(mode=0o700)
    _give_away(folder)
    with pytest.raises(ConfigurationError, match="belongs to another user"):
        private_dir()


def _refusal(server: Any) -> str:
    """The one line of a server that refused to start."""
    assert server.wait_exit(60) == 3  # uvicorn's start-up failure status
    output = server.output()
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "raeburnmemory API cannot start" in line]
    assert len(lines) == 1, output
    return lines[0]


def _their_rate_limit_file(tmp_path: Path) -> tuple[dict[str, str], str]:
    theirs = tmp_path / "shared" / "limits.sqlite3"
    theirs.parent.mkdir()
    theirs.write_bytes(b"")
    _give_away(theirs)
    env = {"RAEBURN_RATE_LIMIT": "10", "RAEBURN_RATE_LIMIT_DB": str(theirs)}
    return env, f"the rate limit database {theirs}"


def _their_private_dir(tmp_path: Path) -> tuple[dict[str, str], str]:
    squatted = tmp_path / f"raeburnmemory-{os.geteuid()}"
    squatted.mkdir(mode=0o777)
    _give_away(squatted)
    return {"RAEBURN_RATE_LIMIT": "10", "RAEBURN_RATE_LIMIT_DB": ""}, str(squatted)


def _their_start_up_lock(tmp_path: Path) -> tuple[dict[str, str], str]:
    env = {
        "RAEBURN_EMBED_MODEL": "none",
        "RAEBURN_DB_PATH": str(tmp_path / "store" / "graph.json"),
    }
    kwargs = Settings.from_env(env).memory_kwargs()
    lock = state_file("open", json.dumps(kwargs, sort_keys=True, default=str), ".lock")
    lock.write_bytes(b"")
    _give_away(lock)
    return env, f"the start-up lock {lock}"


@needs_root
@pytest.mark.parametrize(
    "given_away", [_their_rate_limit_file, _their_private_dir, _their_start_up_lock]
)
def test_server_refuses_a_file_of_another_user(
    start_server: Callable[..., Any],
    tmp_path: Path,
    given_away: Callable[[Path], tuple[dict[str, str], str]],
) -> None:
    env, what = given_away(tmp_path)
    line = _refusal(start_server(env, workers=1, wait=False))
    assert f"{what} belongs to another user (uid {OTHER_UID})" in line


def test_a_started_server_keeps_its_files_owner_only(
    start_server: Callable[..., Any], tmp_path: Path
) -> None:
    server = start_server({"RAEBURN_RATE_LIMIT": "10", "RAEBURN_RATE_LIMIT_DB": ""}, workers=2)
    assert httpx.get(f"{server.url}/memory/sessions").status_code == 200
    folder = tmp_path / f"raeburnmemory-{os.geteuid()}"
    assert _mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert [p.name.split("-")[0] for p in files if p.suffix in (".lock", ".sqlite3")] == [
        "open",
        "ratelimit",
    ]
    for path in files:
        assert _mode(path) == 0o600, path.name
