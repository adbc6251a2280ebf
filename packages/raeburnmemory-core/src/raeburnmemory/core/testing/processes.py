"""Helpers for tests that kill writer processes in the middle of their work."""

from __future__ import annotations

import os
import signal
import subprocess
import time

__all__ = ["kill_after_acknowledged"]


def kill_after_acknowledged(
    process: subprocess.Popen[str], count: int, *, timeout: float = 120.0
) -> list[str]:
    """Read the ids a writer prints after each write returned; SIGKILL it once ``count`` arrived.

    Returns every acknowledged id, including those printed between the last read and the kill.
    A ``ready`` line (the writer has opened its store) is not an id.
    """
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.strip() != "ready":
            seen.append(line.strip())
    os.kill(process.pid, signal.SIGKILL)
    rest, _ = process.communicate(timeout=60)
    seen += [word for word in rest.split() if word != "ready"]
    assert process.returncode == -signal.SIGKILL
    return seen
