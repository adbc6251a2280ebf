"""Whether an embedded shard still holds exactly the store's vectors, without listing it.

Every open makes the shard match the store. Listing the shard's points and comparing them with
the store's is what makes opening slow, so a shard closed in step with the store records a
fingerprint of what it holds (in its marker file), and the next open compares that with a
fingerprint of what the store holds now: equal, and the listing is skipped; different (another
process wrote the store meanwhile, or the fingerprint is missing), and the full comparison runs.

The fingerprint is order-free: the count and the sum (modulo 2**64) of one 64-bit hash a row, of
the prompt id, the payload fields and the vector's bytes. So it can follow this process's own
writes one row at a time (:class:`ShardContent`) instead of being computed again at close.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import Matrix, StoredVectors
from raeburnmemory.qdrant._points import FILTER_FIELDS

_MASK = (1 << 64) - 1
#: Folded into every fingerprint: a shard made with other payload fields is never in step.
_LAYOUT = "v1:" + ",".join(FILTER_FIELDS)


def row_hashes(ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]) -> list[int]:
    """One 64-bit hash a row: prompt id, payload fields and vector bytes."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    width = matrix.shape[1] * 4 if matrix.ndim == 2 else 0
    data = memoryview(matrix.tobytes()) if len(ids) else memoryview(b"")
    hashes = []
    for row, (pid, item) in enumerate(zip(ids, payloads, strict=True)):
        digest = hashlib.blake2b(
            f"{pid}\x1f{item.session_id}\x1f{item.agent_id}\x1f{float(item.timestamp)!r}".encode(),
            digest_size=8,
        )
        digest.update(data[row * width : (row + 1) * width])
        hashes.append(int.from_bytes(digest.digest(), "little"))
    return hashes


def fingerprint_of(hashes: Iterable[int], count: int) -> str:
    """The fingerprint of rows with these hashes."""
    return f"{_LAYOUT}:{count}:{sum(hashes) & _MASK:016x}"


def store_fingerprint(stored: StoredVectors) -> str:
    """The fingerprint of what the store holds."""
    hashes = row_hashes(stored.ids, stored.vectors, stored.payloads)
    return fingerprint_of(hashes, len(hashes))


class ShardContent:
    """What this process knows the shard holds: each prompt's row hash, kept up to date with
    its own writes (``None`` from :meth:`known` once a write could not be followed)."""

    def __init__(self) -> None:
        self._rows: dict[str, int] | None = None

    def matched(self, stored: StoredVectors) -> str:
        """The shard now holds exactly ``stored``; returns its fingerprint."""
        hashes = row_hashes(stored.ids, stored.vectors, stored.payloads)
        self._rows = dict(zip(stored.ids, hashes, strict=True))
        return fingerprint_of(self._rows.values(), len(self._rows))

    def upserted(
        self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]
    ) -> None:
        """These prompts' points were written."""
        if self._rows is not None:
            self._rows.update(zip(ids, row_hashes(ids, vectors, payloads), strict=True))

    def differing(
        self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]
    ) -> list[int]:
        """The rows the shard does not hold as they are (every row when that is not known)."""
        if self._rows is None:
            return list(range(len(ids)))
        rows = self._rows
        hashes = row_hashes(ids, vectors, payloads)
        return [n for n, (pid, h) in enumerate(zip(ids, hashes, strict=True)) if rows.get(pid) != h]

    def removed(self, prompt_ids: Iterable[str]) -> None:
        """These prompts' points were deleted."""
        if self._rows is not None:
            for pid in prompt_ids:
                self._rows.pop(pid, None)

    def emptied(self) -> None:
        """The shard was created again, empty."""
        self._rows = {}

    def lost(self) -> None:
        """A write could not be followed (a failure, or points deleted by point id only)."""
        self._rows = None

    def known(self) -> str | None:
        """The fingerprint of what the shard holds, or ``None`` when that is not known."""
        if self._rows is None:
            return None
        return fingerprint_of(self._rows.values(), len(self._rows))
