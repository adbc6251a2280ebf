"""Whether an embedded shard still holds exactly the store's vectors, without listing it.

Every open makes the shard match the store. Listing the shard's points and comparing them with
the store's is what makes opening slow, so a shard closed in step with the store records a
fingerprint of what it holds (in its marker file), and the next open compares that with a
fingerprint of what the store holds now: equal, and the listing is skipped; different (another
process wrote the store meanwhile, or the fingerprint is missing), and the full comparison runs.

The fingerprint is order-free: the count and the sum (modulo 2**64) of one 64-bit hash a row, of
the prompt id, the payload fields and the vector's bytes, computed column by column with numpy
(random linear hashes of each field's words, mixed by SplitMix64's finalizer). It catches
accidental differences, not deliberate collisions: only this library writes the shard. So it can
follow this process's own writes one row at a time (:class:`ShardContent`) instead of being
computed again at close.

Computing the store's fingerprint means reading and hashing every vector. A store that has a
version token (:meth:`~raeburnmemory.core.store.Store.version_token`) spares that: the token read
when the shard last matched the store is recorded beside the fingerprint, and an open that finds
the store's token unchanged trusts the shard without reading a vector. Any doubt (no token, a
different one) falls back to the fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import Matrix, StoredVectors
from raeburnmemory.qdrant._points import FILTER_FIELDS

_MASK = (1 << 64) - 1
#: Folded into every fingerprint: a shard made with other payload fields is never in step.
_LAYOUT = "v1:" + ",".join(FILTER_FIELDS)


#: Rows hashed at a time (bounds the memory of the padded text arrays).
_CHUNK = 8192
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finalizer on every element (uint64 arithmetic wraps)."""
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return mixed


def _words(columns: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """A 2-D array's rows as uint64 words (zero-padded)."""
    raw = np.ascontiguousarray(columns).view(np.uint8).reshape(len(columns), -1)
    pad = -raw.shape[1] % 8
    if pad:
        raw = np.concatenate([raw, np.zeros((len(raw), pad), dtype=np.uint8)], axis=1)
    return raw.view(np.uint64)


def _linear(words: npt.NDArray[np.uint64], salt: int) -> npt.NDArray[np.uint64]:
    """One 64-bit hash a row: the words times pseudo-random odd weights, summed, then mixed."""
    count = words.shape[1]
    weights = _mix(np.arange(count, dtype=np.uint64) + np.uint64(salt << 32)) | np.uint64(1)
    total = words @ weights if count else np.zeros(len(words), dtype=np.uint64)
    return _mix(total ^ np.uint64(salt))


def _texts(values: Sequence[str], salt: int) -> npt.NDArray[np.uint64]:
    """One hash a string (its code points and its length)."""
    codes = np.array(values, dtype=str)
    if codes.dtype.itemsize == 0:
        codes = codes.astype("<U1")
    lengths = np.fromiter(map(len, values), dtype=np.uint64, count=len(values))
    return _mix(_linear(_words(codes), salt) ^ lengths)


def _chunk_hashes(
    ids: Sequence[str], matrix: Matrix, payloads: Sequence[VectorPayload]
) -> npt.NDArray[np.uint64]:
    hashes = _linear(_words(matrix), 1)
    columns = (
        _texts(ids, 2),
        _texts([item.session_id for item in payloads], 3),
        _texts([item.agent_id for item in payloads], 4),
        np.array([float(item.timestamp) for item in payloads], dtype=np.float64).view(np.uint64),
    )
    for column in columns:
        hashes = _mix(hashes ^ column)
    return hashes


def row_hashes(ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]) -> list[int]:
    """One 64-bit hash a row, of the prompt id, the payload fields and the vector's bytes."""
    if len(ids) != len(payloads) or len(ids) != len(vectors):
        raise ValueError("ids, vectors and payloads differ in length")
    if not ids:
        return []
    matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), -1)
    found: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        stop = start + _CHUNK
        chunk = _chunk_hashes(ids[start:stop], matrix[start:stop], payloads[start:stop])
        found.extend(chunk.tolist())
    return found


def fingerprint_of(hashes: Iterable[int], count: int) -> str:
    """The fingerprint of rows with these hashes."""
    return f"{_LAYOUT}:{count}:{sum(hashes) & _MASK:016x}"


def store_fingerprint(stored: StoredVectors) -> str:
    """The fingerprint of what the store holds."""
    hashes = row_hashes(stored.ids, stored.vectors, stored.payloads)
    return fingerprint_of(hashes, len(hashes))


@dataclass(frozen=True)
class Claim:
    """What a shard's marker records it was closed in step with."""

    #: The fingerprint of the rows the shard holds.
    fingerprint: str
    #: The store's version token when those rows were the store's (``None``: not known).
    store_version: str | None = None


class ShardContent:
    """What this process knows the shard holds: each prompt's row hash, kept up to date with
    its own writes (``None`` from :meth:`known` once a write could not be followed)."""

    def __init__(self) -> None:
        self._rows: dict[str, int] | None = None
        # Prompts whose points this process wrote: only those are known to hold these rows (a
        # reconciliation compares ids, so a point it kept may hold an older vector).
        self._written: set[str] = set()

    def matched(
        self,
        stored: StoredVectors,
        written: Iterable[str] = (),
        hashes: Sequence[int] | None = None,
    ) -> str:
        """The shard now holds ``stored``'s prompts, ``written`` just upserted from it
        (``hashes``: its row hashes, when already computed)."""
        if hashes is None:
            hashes = row_hashes(stored.ids, stored.vectors, stored.payloads)
        self._rows = dict(zip(stored.ids, hashes, strict=True))
        self._written = set(written)
        return fingerprint_of(self._rows.values(), len(self._rows))

    def upserted(
        self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]
    ) -> None:
        """These prompts' points were written."""
        if self._rows is not None:
            self._rows.update(zip(ids, row_hashes(ids, vectors, payloads), strict=True))
            self._written.update(ids)

    def differing(
        self, ids: Sequence[str], vectors: Matrix, payloads: Sequence[VectorPayload]
    ) -> list[int]:
        """The rows this process has not written as they are (every row when not known)."""
        if self._rows is None or not self._written:
            return list(range(len(ids)))
        rows, written = self._rows, self._written
        hashes = row_hashes(ids, vectors, payloads)
        return [
            n
            for n, (pid, h) in enumerate(zip(ids, hashes, strict=True))
            if pid not in written or rows.get(pid) != h
        ]

    def removed(self, prompt_ids: Iterable[str]) -> None:
        """These prompts' points were deleted."""
        if self._rows is not None:
            for pid in prompt_ids:
                self._rows.pop(pid, None)
                self._written.discard(pid)

    def emptied(self) -> None:
        """The shard was created again, empty."""
        self._rows = {}
        self._written = set()

    def lost(self) -> None:
        """A write could not be followed (a failure, or points deleted by point id only)."""
        self._rows = None
        self._written = set()

    def known(self) -> str | None:
        """The fingerprint of what the shard holds, or ``None`` when that is not known."""
        if self._rows is None:
            return None
        return fingerprint_of(self._rows.values(), len(self._rows))
