"""Every stored vector of a JSON store as blocks of rows, for an index built without a full copy.

The blocks come in the order :meth:`VectorRows.all_vectors` lays the rows out (the vectors
file's live rows, then the journal's), each with its ids and payloads, read under the store's
lock by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from raeburnmemory.core.json_store._journal import JournalFile
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.json_store._vector_rows import IN_VECTORS_FILE, VectorRows
from raeburnmemory.core.store import Matrix, StoredVectors

__all__ = ["stored_blocks"]


def _block(
    ids: Sequence[str], vectors: Matrix, records: Mapping[str, StoredInteraction]
) -> StoredVectors:
    return StoredVectors(list(ids), vectors, [records[pid].payload() for pid in ids])


def stored_blocks(
    rows: VectorRows,
    journal: JournalFile,
    records: Mapping[str, StoredInteraction],
    size: int,
) -> Iterator[StoredVectors]:
    """Every live vector with its id and payload, about ``size`` rows a block (a journal block
    ends with a journal line, so it may hold a few more)."""
    in_file = [pid for pid, place in rows.locations.items() if place[0] == IN_VECTORS_FILE]
    starts = range(0, len(in_file), size)
    for start, vectors in zip(starts, rows.file_blocks(size), strict=True):
        yield _block(in_file[start : start + size], vectors, records)
        del vectors  # not held while the next block is read
    for ids, vectors in rows.journal_blocks(journal, size):
        yield _block(ids, vectors, records)
        del ids, vectors
