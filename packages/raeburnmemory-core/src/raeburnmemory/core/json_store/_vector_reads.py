"""The JSON store's reads of every stored vector: all at once, or as blocks of rows for an index
built without a full copy.

The blocks come in the order :meth:`VectorRows.all_vectors` lays the rows out (the vectors
file's live rows, then the journal's), each with its ids and payloads, read under the store's
lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

from raeburnmemory.core.json_store._files import permission_errors
from raeburnmemory.core.json_store._follower import JournalFollower
from raeburnmemory.core.json_store._vector_rows import IN_VECTORS_FILE
from raeburnmemory.core.json_store._vector_tail import VectorTail, holds_journal, tail_blocks
from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import VECTOR_BLOCK_ROWS, Matrix, StoredVectors, VectorBlocks

__all__ = ["JsonVectorReads", "stored_blocks"]


Payloads = Callable[[list[str]], list[VectorPayload]]


def _block(ids: Sequence[str], vectors: Matrix, payloads: Payloads) -> StoredVectors:
    listed = list(ids)
    return StoredVectors(listed, vectors, payloads(listed))


def stored_blocks(
    view: JournalFollower,
    payloads: Payloads,
    size: int,
    tail: VectorTail | None = None,
) -> Iterator[StoredVectors]:
    """Every live vector with its id and payload, about ``size`` rows a block (a journal block
    ends with a journal line, so it may hold a few more).

    When ``tail`` (the rows this process's large batches wrote past the listed ones) holds
    exactly the journal's vectors, they are read from the vectors file instead of decoded from
    the journal's lines.
    """
    rows = view.rows
    if rows.locations.untouched and rows.file_format is not None:
        # the vectors file's rows alone, as the map lists them: no location to make
        in_file = list(rows.file_ids)
    else:
        in_file = [pid for pid, place in rows.locations.items() if place[0] == IN_VECTORS_FILE]
    starts = range(0, len(in_file), size)
    for start, vectors in zip(starts, rows.file_blocks(size), strict=True):
        yield _block(in_file[start : start + size], vectors, payloads)
        del vectors  # not held while the next block is read
    in_journal = len(rows) - len(in_file)
    if in_journal and tail is not None and holds_journal(view, tail):
        journal_blocks = tail_blocks(tail, size)
    else:
        journal_blocks = rows.journal_blocks(view.journal, size)
    for ids, vectors in journal_blocks:
        yield _block(ids, vectors, payloads)
        del ids, vectors


class JsonVectorReads:
    """The vector-reading methods of :class:`~raeburnmemory.core.json_store.JsonStore`."""

    _mutex: threading.RLock
    _check_open: Callable[[], None]
    _locked: Callable[..., AbstractContextManager[bool]]
    _follower: JournalFollower
    _tail: VectorTail | None

    def load_vectors(self, *, with_payloads: bool = True) -> StoredVectors:
        """Every stored vector with its id and payload (none ``with_payloads=False``, and then
        later changes are still to be reported); the next refresh() reports later changes."""
        with self._mutex, permission_errors("read"):
            self._check_open()
            view = self._follower
            with self._locked(write=False):
                view.follow()
                payloads = view.state.payloads if with_payloads else None
                stored = view.rows.all_vectors(view.journal, payloads)
            if with_payloads:
                view.forget_unreported()
            return stored

    @contextlib.contextmanager
    def vector_blocks(self, rows: int = VECTOR_BLOCK_ROWS) -> Iterator[VectorBlocks]:
        """Every stored vector with its id and payload, as :meth:`load_vectors` gives them, in
        blocks of about ``rows`` (the vectors file's rows copied from its memory map, the
        journal's decoded a few lines at a time).

        The blocks are read under the lock, so all of them come from one generation of the
        files; it is let go once the last block is read, so what an index builds from them
        afterwards (an HNSW graph) does not hold other writers up.
        """
        with contextlib.ExitStack() as held:
            held.enter_context(self._mutex)
            held.enter_context(permission_errors("read"))
            self._check_open()
            view = self._follower
            held.enter_context(self._locked(write=False))
            view.follow()

            def blocks() -> Iterator[StoredVectors]:
                yield from stored_blocks(view, view.state.payloads, rows, self._tail)
                view.forget_unreported()
                held.close()

            count = len(view.rows)
            yield VectorBlocks(count, blocks())
            if not count:
                view.forget_unreported()

    def vector_matrix(self) -> StoredVectors:
        """Every stored vector with its id and no payloads; the vectors file is mapped, not read."""
        return self.load_vectors(with_payloads=False)
