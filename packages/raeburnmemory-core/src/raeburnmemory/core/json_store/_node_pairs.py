"""Writing the prompt and response nodes of a snapshot, copying unchanged ones.

A record read from a snapshot keeps where its two nodes sit in that file; those bytes are the
nodes, unchanged, so the next snapshot copies them (a run of neighbouring records at a time)
instead of reading and encoding them again. Only the records added since the last compaction
are encoded, which makes a compaction's CPU cost follow what changed.
"""

from __future__ import annotations

from typing import Protocol

from raeburnmemory.core.json_store._stored import NodeSource, StoredInteraction
from raeburnmemory.core.json_text import dumps

__all__ = ["PairOutput", "write_pairs"]


class PairOutput(Protocol):
    """Where the snapshot is written: text, bytes copied as they are, and the size so far."""

    size: int

    def write(self, text: str) -> None:
        """Queue ASCII text."""

    def write_raw(self, data: bytes) -> None:
        """Write bytes as they are."""


#: The most bytes of an older snapshot copied in one piece.
_COPY_BYTES = 8 << 20


class _CopyRun:
    """Neighbouring node pairs of one older snapshot, copied to the new one in one piece."""

    def __init__(self, source: NodeSource, offset: int, length: int) -> None:
        self.source = source
        self.start = offset
        self.end = offset + length
        self.spans = [offset, length]

    def extends(self, source: NodeSource, offset: int) -> bool:
        """Whether the pair at ``offset`` of ``source`` follows this run's last one."""
        return (
            source is self.source
            and offset == self.end + 2  # after the ", " between two pairs
            and self.end - self.start < _COPY_BYTES
        )

    def add(self, offset: int, length: int) -> None:
        """Take the next pair."""
        self.end = offset + length
        self.spans += (offset, length)

    def copy(self, out: PairOutput, spans: list[int]) -> None:
        """Write the run's bytes and add the pairs' new spans."""
        if spans:
            out.write(", ")
        shift = out.size - self.start
        out.write_raw(self.source.raw(self.start, self.end))
        for index in range(0, len(self.spans), 2):
            spans += (self.spans[index] + shift, self.spans[index + 1])


def write_pairs(out: PairOutput, records: list[StoredInteraction], spans: list[int]) -> None:
    """Write each record's prompt and response nodes, adding their spans (offset, length).

    The nodes of a record read from a snapshot are copied from that file's bytes, a run of
    neighbouring records at a time, so a compaction encodes only the records added since the
    last one.
    """
    run: _CopyRun | None = None
    for record in records:
        place = record.snapshot_place
        if place is not None:
            source, offset, length = place
            if run is not None and run.extends(source, offset):
                run.add(offset, length)
                continue
            if run is not None:
                run.copy(out, spans)
            run = _CopyRun(source, offset, length)
            continue
        if run is not None:
            run.copy(out, spans)
            run = None
        answer = record.response
        text = dumps([record.prompt] if answer is None else [record.prompt, answer])[1:-1]
        if spans:
            out.write(", ")
        spans += (out.size, len(text))
        out.write(text)
    if run is not None:
        run.copy(out, spans)
