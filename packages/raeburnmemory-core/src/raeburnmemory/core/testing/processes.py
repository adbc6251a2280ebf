"""Helpers for tests that run stores in real processes: killed writers, denied permissions."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "LineProcess",
    "assert_permission_error",
    "file_permissions_apply",
    "kill_after_acknowledged",
    "modes_restored",
    "probe_held_to_permissions",
    "require_file_permissions",
    "store_for_permissions",
    "without_permission_override",
]

_PR_CAPBSET_DROP = 24
# Capabilities that let root read and write whatever the mode bits say.
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def without_permission_override() -> None:
    """A ``preexec_fn`` after which the child is held to files' mode bits, even as root.

    Root bypasses file permissions through two capabilities; dropping them from the bounding
    set before ``exec`` leaves the child (and its children) without them, so a file of mode
    ``000`` or a directory of mode ``555`` stops it like any other user, while the interpreter
    stays reachable (unlike switching to another user, which may not read root's home). Does
    nothing for other users, who are held to the mode bits already.
    """
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop the file permission capabilities")


def file_permissions_apply(probe_dir: str) -> bool:
    """Whether a child started with :func:`without_permission_override` is refused a file of
    mode ``000`` in ``probe_dir`` (false where capabilities cannot be dropped)."""
    if not sys.platform.startswith("linux"):
        return False
    probe = os.path.join(probe_dir, ".permission-probe")
    with open(probe, "w", encoding="utf-8") as fh:
        fh.write("x")
    os.chmod(probe, 0)
    try:
        done = subprocess.run(
            [sys.executable, "-c", f"open({probe!r}).read()"],
            preexec_fn=without_permission_override,
            capture_output=True,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        os.unlink(probe)
    return done.returncode != 0 and b"PermissionError" in done.stderr


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


def probe_held_to_permissions(
    db_path: Path, storage_backend: str = "json", *, write: bool = True
) -> dict[str, Any]:
    """Open a store in a subprocess held to the files' mode bits: read it, then try a write.

    The store is opened with the offline encoder and numpy vectors. Returns what the process
    reported: ``count`` and ``found`` (the ids found for sample interaction 3), ``wrote``, and
    ``error`` as ``[class name, message]`` when something was raised.
    """
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "raeburnmemory.core.testing._probe",
            json.dumps({"db_path": str(db_path), "storage_backend": storage_backend}),
            "write" if write else "read",
        ],
        preexec_fn=without_permission_override,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the probe failed:\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def require_file_permissions(folder: Path) -> None:
    """Skip the test where :func:`without_permission_override` cannot hold a child to the mode
    bits of files in ``folder``."""
    import pytest

    if not file_permissions_apply(str(folder)):
        pytest.skip("file permissions cannot be enforced on this system")


def assert_permission_error(report: dict[str, Any], path: Path, action: str) -> None:
    """The probe's ``report`` holds the ``StorePermissionError`` for ``action`` on ``path``."""
    kind, message = report["error"]
    assert kind == "StorePermissionError", message
    assert message.startswith(f"{path}: permission denied: this process (user id "), message
    assert f"may not {action} it" in message, message


@contextlib.contextmanager
def modes_restored(folder: Path) -> Iterator[Path]:
    """Give ``folder`` and its files back their usual modes afterwards, so they can be removed."""
    try:
        yield folder
    finally:
        if folder.exists():
            folder.chmod(0o755)
            for path in folder.iterdir():
                path.chmod(0o644)


def store_for_permissions(
    tmp_path: Path, name: str, then: Callable[[Any], object] | None = None, **options: Any
) -> Iterator[Path]:
    """For a fixture (``yield from``): skip unless file modes can be enforced, write a store of
    five interactions at ``tmp_path/store/name`` with ``MemoryGraph`` ``options`` (``then(graph)``
    writes more before it closes) and yield its path; the folder's modes are restored after."""
    from raeburnmemory.core.testing.data import interactions
    from raeburnmemory.memory_graph import MemoryGraph

    require_file_permissions(tmp_path)
    path = tmp_path / "store" / name
    with MemoryGraph(path, embedding_model=None, **options) as graph:
        graph.batch_add(interactions(5))
        if then is not None:
            then(graph)
    with modes_restored(path.parent):
        yield path


class LineProcess:
    """A child process spoken to in lines: :meth:`say` writes one to its standard input,
    :meth:`hear` reads one from its standard output."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        self.process = process
        self._stdin = process.stdin
        self._stdout = process.stdout

    @classmethod
    @contextlib.contextmanager
    def running(cls, args: list[str]) -> Iterator[LineProcess]:
        """Start ``args``; at the end of the block its standard input is closed and it must
        exit with status 0 within a minute."""
        pipe = subprocess.PIPE
        child = cls(subprocess.Popen(args, stdin=pipe, stdout=pipe, text=True))
        try:
            yield child
        finally:
            child._stdin.close()
            assert child.process.wait(timeout=60) == 0

    def say(self, line: str) -> None:
        """Send one line (the newline is added)."""
        self._stdin.write(line + "\n")
        self._stdin.flush()

    def hear(self) -> str:
        """The next line the process writes, newline included (``""`` once it has exited)."""
        return self._stdout.readline()
