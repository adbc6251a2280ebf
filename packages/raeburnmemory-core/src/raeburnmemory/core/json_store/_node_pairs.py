"""Writing the prompt and response nodes of a snapshot, copying unchanged ones.

A record read from a snapshot keeps where its two nodes sit in that file; those bytes are the
nodes, unchanged, so the next snapshot copies them (a run of neighbouring records at a time)
instead of reading and encoding them again. Only the records added since the last compaction
are encoded, which makes a compaction's CPU cost follow what changed.
"""

from __future__ import annotations

from typing import Protocol

from raeburnmemory.core.json_store._node_text import pair_text
from raeburnmemory.core.json_store._stored import NodeSource, StoredInteraction

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
#: New node pairs (and separators) joined into one piece of text.
_TEXTS_AT_ONCE = 8192


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


def write_pairs(
    out: PairOutput, records: list[StoredInteraction], keys: list[str], spans: list[int]
) -> None:
    """Write each record's prompt and response nodes, adding their spans (offset, length).

    The nodes of a record read from a snapshot are copied from that file's bytes, a run of
    neighbouring records at a time, so a compaction encodes only the records added since the
    last one; those are laid out from their fields (:func:`pair_text`, ``keys`` being their
    escaped prompt ids) and written a few thousand at a time.
    """
    run: _CopyRun | None = None
    texts: list[str] = []
    position = out.size
    for record, key in zip(records, keys, strict=True):
        place = record.snapshot_place
        if place is not None:
            if texts:
                out.write("".join(texts))
                texts = []
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
            position = out.size
        elif not texts:
            position = out.size
        text = pair_text(record, key)
        if spans:
            texts.append(", ")
            position += 2
        spans += (position, len(text))
        texts.append(text)
        position += len(text)
        if len(texts) >= _TEXTS_AT_ONCE:
            out.write("".join(texts))
            texts = []
    if texts:
        out.write("".join(texts))
    if run is not None:
        run.copy(out, spans)
