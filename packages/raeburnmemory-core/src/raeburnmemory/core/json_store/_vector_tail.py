"""A large batch's vectors written to the vectors file as well, for the next compaction to list.

A batch of at least :data:`TAIL_ROWS` vectors writes them, besides its journal lines, after
the rows the map lists in the store's vectors file (or, when the store has no vectors file yet,
to a new one whose header lists no row). Readers ignore rows past the listed ones and the
journal stays the durable record: these rows are a copy, written as the batch is, so that the
compaction after it lists them (a header and a map) instead of decoding the journal's vectors
and writing them again. Failing to write them costs only that shortcut.

The compaction uses them only when they are still exactly what this process wrote: the same
generation, vectors file and journal, the journal's vectors are these rows in this order, and
the rows read back match their CRC-32 (another writer may have cut or rewritten rows past the
listed ones since). Otherwise it writes the vectors as it would have without them.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_store._follower import JournalFollower
from raeburnmemory.core.json_store._vector_file import (
    VectorFileInfo,
    VectorFileWriter,
    file_crc,
    new_vector_file,
    preferred_format,
    read_vector_info,
)
from raeburnmemory.core.json_store._vector_rows import IN_VECTORS_FILE, VectorLocation
from raeburnmemory.core.store import Matrix

__all__ = [
    "TAIL_ROWS",
    "VectorTail",
    "adopt_tail",
    "holds_journal",
    "keep_batch_rows",
    "tail_blocks",
]

#: The fewest vectors a batch writes to the vectors file as well as to the journal.
TAIL_ROWS = 2048


class VectorTail:
    """Rows this process wrote past the listed rows of a vectors file, and whose they are.

    ``entries`` are the prompt ids with the journal location of each row's vector, in row
    order; ``crc`` is the CRC-32 of the listed rows followed by these; ``end`` the byte after
    the last row; ``checked`` what the journal and the file looked like when the rows were last
    read back whole and matched their CRC-32.
    """

    __slots__ = (
        "checked",
        "crc",
        "dim",
        "end",
        "entries",
        "epoch",
        "fmt",
        "generation",
        "identity",
        "journal_identity",
        "listed",
        "offset",
        "path",
    )

    def __init__(self, view: JournalFollower, info: VectorFileInfo, fmt: str, crc: int) -> None:
        self.path = info.path
        self.fmt = fmt
        self.dim = info.dim
        self.listed = info.rows
        self.offset = info.offset
        self.end = info.offset + 4 * info.rows * info.dim
        self.crc = crc
        self.checked: tuple[tuple[int, int, int, int] | None, ...] | None = None
        self.entries: list[tuple[str, VectorLocation]] = []
        self.generation = view.generation
        self.epoch = view.vectors_epoch
        self.journal_identity = view.journal.identity
        stat = os.stat(info.path)
        self.identity = (stat.st_dev, stat.st_ino)

    def continues(self, view: JournalFollower) -> bool:
        """Whether the next batch can append after these rows (the full check is
        :func:`adopt_tail`'s)."""
        found = _stat(self.path)
        return (
            self.generation == view.generation
            and self.epoch == view.vectors_epoch
            and self.journal_identity == view.journal.identity
            and found is not None
            and found[:3] == (*self.identity, self.end)
        )

    def rows(self) -> int:
        """The rows the file holds with these: listed and appended."""
        return self.listed + len(self.entries)


def _stat(file: Path | int) -> tuple[int, int, int, int] | None:
    """What changes when a file is written: its device, inode, size and modification time
    (``file`` a path or an open descriptor; ``None`` when it cannot be read)."""
    try:
        stat = os.stat(file)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _start(view: JournalFollower, fmt: str, dim: int) -> VectorTail | None:
    """A tail after the listed rows of the store's vectors file (cutting rows past them), or
    in a new file when the store has none; ``None`` when the next compaction rewrites the file
    anyway (a row is no longer live, or the file is of another format or an older map)."""
    rows = view.rows
    path = view.files.vectors(fmt)
    if rows.file_format is None and not rows.file_ids:
        new_vector_file(path, fmt, dim)
        return VectorTail(view, read_vector_info(path, fmt, 0), fmt, 0)
    if rows.file_format != fmt or rows.rows_crc is None or rows.dim != dim:
        return None
    in_file = sum(1 for place in rows.locations.values() if place[0] == IN_VECTORS_FILE)
    if in_file != len(rows.file_ids):
        return None
    info = read_vector_info(path, fmt, len(rows.file_ids))
    os.truncate(path, info.offset + 4 * info.rows * info.dim)
    return VectorTail(view, info, fmt, rows.rows_crc)


def _write_rows(tail: VectorTail, block: Matrix) -> None:
    """Append ``block`` after the tail's rows (cut back to them if the write fails)."""
    data = np.ascontiguousarray(block, dtype="<f4").data.cast("B")
    fd = os.open(tail.path, os.O_WRONLY)
    try:
        written = 0
        while written < len(data):
            written += os.pwrite(fd, data[written:], tail.end + written)
    except BaseException:
        os.ftruncate(fd, tail.end)
        raise
    finally:
        os.close(fd)
    tail.crc = zlib.crc32(data, tail.crc)
    tail.end += len(data)
    tail.checked = None


def keep_batch_rows(
    view: JournalFollower,
    tail: VectorTail | None,
    block: Matrix,
    entries: list[tuple[str, VectorLocation]],
) -> VectorTail | None:
    """After a batch's journal lines: write its vectors ``block`` (whose journal locations are
    ``entries``) to the vectors file too, when it has :data:`TAIL_ROWS` or more; returns the
    tail to hand the next compaction (``None``: none to keep, as after a smaller write, whose
    vectors a single write to the file would make slower)."""
    if len(entries) < TAIL_ROWS:
        return None  # a few vectors: the compaction takes them all from the journal
    dim = int(block.shape[1])
    current = tail is not None and tail.dim == dim and tail.continues(view)
    try:
        if tail is None or not current:
            tail = _start(view, preferred_format(), dim)
            if tail is None:
                return None
        _write_rows(tail, block)
    except (OSError, CorruptStoreError):
        return None  # the journal has the batch: the compaction writes the vectors itself
    tail.entries += entries
    return tail


def holds_journal(view: JournalFollower, tail: VectorTail) -> bool:
    """Whether the tail's rows are exactly the journal's vectors, in order, and still read back
    as written (their CRC-32): then they may stand for the journal's vectors."""
    rows = view.rows
    if rows.dim != tail.dim or not tail.continues(view):
        return False
    if rows.file_format is None:
        if rows.file_ids or tail.listed:
            return False
    elif rows.file_format != tail.fmt or rows.rows_crc is None or len(rows.file_ids) != tail.listed:
        return False
    expected = iter(tail.entries)
    in_file = 0
    for pid, place in rows.locations.items():
        if place[0] == IN_VECTORS_FILE:
            in_file += 1
        elif next(expected, None) != (pid, place):
            return False
    if in_file != tail.listed or next(expected, None) is not None:
        return False
    listed_crc = rows.rows_crc if tail.listed else 0
    assert listed_crc is not None
    try:
        with tail.path.open("rb") as fh:  # another writer may have cut or rewritten them
            # Every writer appends to the journal before it touches rows past the listed ones,
            # so rows read back since, with neither file changed, need not be read again.
            looks = (_stat(fh.fileno()), _stat(view.journal.fd))
            if None not in looks and tail.checked == looks:
                return True
            if file_crc(fh.fileno(), _first_byte(tail), tail.end, listed_crc) != tail.crc:
                return False
            tail.checked = looks
            return True
    except OSError:
        return False


def _first_byte(tail: VectorTail) -> int:
    """Where the tail's first row starts in the vectors file."""
    return tail.offset + 4 * tail.listed * tail.dim


def tail_blocks(tail: VectorTail, size: int) -> Iterator[tuple[list[str], Matrix]]:
    """The tail's prompt ids and rows, ``size`` at a time, read from the vectors file (call
    :func:`holds_journal` first, under the lock)."""
    start_byte = _first_byte(tail)
    with tail.path.open("rb") as fh:
        for start in range(0, len(tail.entries), size):
            part = tail.entries[start : start + size]
            block = np.empty((len(part), tail.dim), dtype=np.float32)
            wanted = block.nbytes
            got = os.preadv(fh.fileno(), [block.data.cast("B")], start_byte + 4 * start * tail.dim)
            if got != wanted:
                raise CorruptStoreError(tail.path, "ends inside the rows a batch wrote to it")
            yield [pid for pid, _ in part], block


def adopt_tail(view: JournalFollower, tail: VectorTail, fmt: str) -> VectorFileWriter | None:
    """A writer that lists the tail's rows as the vectors file's (its :meth:`finish` writes the
    header), when the tail holds exactly the journal's vectors; otherwise ``None``."""
    if fmt != tail.fmt or not holds_journal(view, tail):
        return None
    info = VectorFileInfo(tail.path, tail.listed, tail.dim, tail.offset)
    try:
        return VectorFileWriter.adopt(info, fmt, tail.rows(), tail.crc)
    except OSError:
        return None
