"""Writing an export file: never over a file of the store, and whole or not at all.

An export that named one of the store's own files (its snapshot, journal, database, ...) would
replace it with node-link JSON and leave a store that can never be opened again. Paths are
compared after resolving symbolic links and ``..``, and by identity (hard links), so no other
spelling of a store file gets through.

The file is written to a temporary name in the same folder, forced to disk and renamed over the
path, so a reader sees the old file or the new one, never half of one. When the path is a
symbolic link, the link itself is replaced by the new file and what it pointed to is left as it
was: an export never writes anywhere but the place it names.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from raeburnmemory.core._fsync import fsync_dir
from raeburnmemory.core.errors import ExportTargetError, RaeburnMemoryError, StoreError

__all__ = ["atomic_text_file", "refuse_store_file"]


def _is_same_place(target: Path, owned: Path) -> bool:
    """Whether ``target`` names ``owned`` (or something inside it, for a folder)."""
    if os.path.abspath(target) == os.path.abspath(owned):
        return True
    real_target = Path(os.path.realpath(target))
    real_owned = Path(os.path.realpath(owned))
    if real_target == real_owned or real_owned in real_target.parents:
        return True
    try:
        return os.path.samefile(target, owned)
    except OSError:  # one of them does not exist: no hard link between them either
        return False


def refuse_store_file(target: Path, owned: Iterable[Path], location: str) -> None:
    """Raise ``ExportTargetError`` when ``target`` is one of ``owned``, the files of the store at
    ``location`` (links resolved), or lies inside one of them."""
    for path in owned:
        if _is_same_place(target, path):
            direct = os.path.abspath(target) == os.path.abspath(path)
            what = "this is" if direct else f"this leads to {path},"
            raise ExportTargetError(
                f"{target}: {what} a file of the store at {location}, which an export "
                "would destroy; choose another output path (nothing was written)"
            )


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new empty file beside ``path`` with a random name, and its descriptor.

    Made like any new file (the umask applies); it takes the mode of a regular file it replaces.
    """
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        break
    with contextlib.suppress(OSError):
        old = path.lstat()
        if stat.S_ISREG(old.st_mode):
            os.fchmod(fd, stat.S_IMODE(old.st_mode))
    return fd, temp


@contextlib.contextmanager
def atomic_text_file(path: Path) -> Iterator[IO[str]]:
    """A UTF-8 text file that appears at ``path`` whole, or not at all.

    Its folder is created if needed. Any failure to write (a full disk, a folder at ``path``, no
    permission) raises ``StoreError`` naming ``path``, and no temporary file is left behind.
    """
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a file; give the path of the file to write")
    temp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = _create_temp(path)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        temp = None
        with contextlib.suppress(OSError):  # the file is whole; only the rename's durability
            fsync_dir(path.parent)
    except OSError as exc:
        if isinstance(exc, RaeburnMemoryError):
            raise
        reason = exc.strerror or str(exc)
        raise StoreError(f"{path}: cannot write the export: {reason}") from exc
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
