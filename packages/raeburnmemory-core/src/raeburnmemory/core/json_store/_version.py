"""The JSON store's version token: what changes whenever its content changes.

Every write appends a journal line and every compaction starts a new generation, so the map's
generation and vectors epoch, the CRC-32 of the snapshot's vectors, the journal file's identity,
its length and its last line's number, with the CRC-32 of the journal's last bytes (a store
deleted and made again with as many lines of the same length still differs there), name the
content this process has read.
"""

from __future__ import annotations

import os
import zlib

from raeburnmemory.core.json_store._follower import JournalFollower

__all__ = ["version_token"]

#: Bytes of the journal's end folded into the token.
_TAIL = 65536


def version_token(view: JournalFollower) -> str | None:
    """The token of what ``view`` has read (``None`` when its journal is not open)."""
    journal, rows = view.journal, view.rows
    if journal.fd < 0:
        return None
    start = max(0, journal.end - _TAIL)
    try:
        tail = os.pread(journal.fd, journal.end - start, start)
    except OSError:
        return None
    device, inode = journal.identity
    return (
        f"json:{view.generation}:{view.vectors_epoch}:{rows.file_crc}:{rows.rows_crc}:"
        f"{device}:{inode}:{journal.end}:{journal.last_line}:{zlib.crc32(tail):08x}"
    )
