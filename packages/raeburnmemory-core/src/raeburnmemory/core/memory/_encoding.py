"""Texts into the float32 matrices that stores and vector indexes take, a batch at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from raeburnmemory.core.encoders import Encoder
from raeburnmemory.core.store import Matrix

__all__ = ["BATCH_CHUNK", "encode", "encode_in_chunks", "encoded_batches"]

#: Texts encoded together (by ``batch_add`` and ``reindex``).
BATCH_CHUNK = 2048


def encode(encoder: Encoder, texts: Sequence[str]) -> Matrix:
    """One contiguous float32 row per text."""
    return np.ascontiguousarray(encoder.encode(list(texts)), dtype=np.float32)


def encode_in_chunks(encoder: Encoder, texts: Sequence[str]) -> Matrix:
    """The vectors of ``texts``, encoded ``BATCH_CHUNK`` at a time into one matrix."""
    first = encode(encoder, texts[:BATCH_CHUNK])
    if len(texts) <= BATCH_CHUNK:
        return first
    vectors = np.empty((len(texts), first.shape[1]), dtype=np.float32)
    vectors[: len(first)] = first
    for start in range(BATCH_CHUNK, len(texts), BATCH_CHUNK):
        part = texts[start : start + BATCH_CHUNK]
        vectors[start : start + len(part)] = encode(encoder, part)
    return vectors


def encoded_batches(
    encoder: Encoder,
    items: Sequence[tuple[str, str]],
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[list[str], Matrix]]:
    """``(ids, vectors)`` of ``(id, text)`` pairs, ``BATCH_CHUNK`` at a time.

    ``progress(done, total)`` is called after each batch has been taken.
    """
    total = len(items)
    for start in range(0, total, BATCH_CHUNK):
        part = items[start : start + BATCH_CHUNK]
        yield [pid for pid, _ in part], encode(encoder, [text for _, text in part])
        if progress is not None:
            progress(min(start + BATCH_CHUNK, total), total)
