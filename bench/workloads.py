"""The two vector workloads of the core benchmark: the offline encoder's, and dense vectors.

``sparse``: the offline hashing encoder (words and character trigrams hashed into 384 signed
dimensions). With the benchmark's prompts about one dimension in eight is non-zero.

``dense``: the same features (each word, and the character trigrams of each word) hashed into
*dense* 384-dimension vectors: every feature picks a fixed pseudo-random Gaussian direction, and a
text is the normalized sum of its features' directions. Every dimension is non-zero, and inner
products follow the shared features as with the offline encoder, as a neural model's vectors are
dense: the workload on which an HNSW graph needs a wider search to keep its recall.
"""

from __future__ import annotations

import os
import re
import tempfile
import zlib
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from raeburnmemory.core.encoders import HashingEncoder

__all__ = ["WORKLOADS", "DenseHashingEncoder", "PrecomputedEncoder", "encoder_for"]

#: The workloads ``bench_core.py --workload`` accepts.
WORKLOADS = ("sparse", "dense")

_TOKEN = re.compile(r"\w+", re.UNICODE)
# Pseudo-random directions a feature's hash picks from.
_DIRECTIONS = 16_384
# Dense vectors of at most this many words are kept between calls.
_MAX_CACHED_WORDS = 50_000


class DenseHashingEncoder:
    """Words and character trigrams hashed into dense vectors (numpy only, deterministic)."""

    def __init__(self, dim: int = 384, *, ngram: int = 3, seed: int = 20_260_101) -> None:
        self._dim = dim
        self._ngram = ngram
        rng = np.random.default_rng(seed)
        self._directions = rng.standard_normal((_DIRECTIONS, dim), dtype=np.float32)
        self._words: dict[str, npt.NDArray[np.float32]] = {}

    @property
    def name(self) -> str:
        """The name recorded in the store."""
        return f"bench-dense-hashing-{self._dim}"

    @property
    def dim(self) -> int:
        """The dimension of the vectors."""
        return self._dim

    def _grams(self, word: str) -> list[str]:
        padded = f"<{word}>"
        n = self._ngram
        return [f"w:{word}", *(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))]

    def _learn(self, words: list[str]) -> npt.NDArray[np.float32]:
        """The dense vectors of ``words``, computed all at once and cached."""
        grams = [self._grams(word) for word in words]
        width = max(len(g) for g in grams)
        hashes = np.zeros((len(words), width), dtype=np.intp)
        weights = np.zeros((len(words), width), dtype=np.float32)
        for row, features in enumerate(grams):
            hashes[row, : len(features)] = [zlib.crc32(g.encode()) % _DIRECTIONS for g in features]
            weights[row, : len(features)] = 1.0
            weights[row, 0] = 2.0  # the whole word weighs more than any one of its trigrams
        vectors = np.zeros((len(words), self._dim), dtype=np.float32)
        for column in range(width):
            vectors += weights[:, column, None] * self._directions[hashes[:, column]]
        if len(self._words) + len(words) > _MAX_CACHED_WORDS:
            self._words.clear()
        self._words.update(zip(words, vectors, strict=True))
        return vectors

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One L2-normalized dense row per text: the sum of its words' vectors."""
        words = [_TOKEN.findall(text.lower()) for text in texts]
        local: dict[str, int] = {}
        ids = [[local.setdefault(word, len(local)) for word in text] for text in words]
        # Row 0 of the table is zeros: it pads texts shorter than the longest.
        table = np.zeros((len(local) + 1, self._dim), dtype=np.float32)
        new = []
        for word, row in local.items():
            known = self._words.get(word)
            if known is None:
                new.append(word)
            else:
                table[row + 1] = known
        if new:
            table[[local[word] + 1 for word in new]] = self._learn(new)
        width = max((len(row) for row in ids), default=0)
        padded = np.zeros((len(texts), width), dtype=np.intp)
        for row, found in enumerate(ids):
            padded[row, : len(found)] = np.asarray(found, dtype=np.intp) + 1
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for column in range(width):
            out += table[padded[:, column]]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


class PrecomputedEncoder:
    """A workload's encoder whose vectors for known texts were computed beforehand.

    ``batch_add`` then measures recording alone, encoding excluded; other texts (queries, single
    adds) are encoded as they come. The name is the encoder's own, so a store written through
    it reopens with the encoder itself. The vectors computed beforehand wait in a temporary
    file, read a batch at a time, not in this process's memory: an application encoding its
    prompts as it records them never holds all of their vectors at once, so the benchmark's
    peak memory must not either.
    """

    def __init__(self, encoder: Any, texts: Sequence[str], chunk: int = 8192) -> None:
        self._encoder = encoder
        self._rows = {text: row for row, text in enumerate(texts)}
        # Closed by forget(), or with the object.
        self._file: BinaryIO | None = tempfile.TemporaryFile(prefix="precomputed-")  # noqa: SIM115
        for start in range(0, len(texts), chunk):
            block = np.ascontiguousarray(encoder.encode(texts[start : start + chunk]), "<f4")
            self._file.write(block.data.cast("B"))
        self._file.flush()

    @property
    def name(self) -> str:
        """The encoder's name."""
        return str(self._encoder.name)

    @property
    def dim(self) -> int:
        """The encoder's dimension."""
        return int(self._encoder.dim)

    def forget(self) -> None:
        """Drop the vectors computed beforehand (their file goes with them)."""
        self._rows = {}
        if self._file is not None:
            self._file.close()
            self._file = None

    def _read(self, rows: list[int]) -> npt.NDArray[np.float32]:
        """The vectors of ``rows`` from the file, one read per run of consecutive rows."""
        assert self._file is not None
        fd, width = self._file.fileno(), 4 * self.dim
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        first = 0
        while first < len(rows):
            last = first + 1
            while last < len(rows) and rows[last] == rows[last - 1] + 1:
                last += 1
            data = os.pread(fd, (last - first) * width, rows[first] * width)
            out[first:last] = np.frombuffer(data, dtype="<f4").reshape(last - first, self.dim)
            first = last
        return out

    def first(self, count: int) -> npt.NDArray[np.float32]:
        """The vectors computed beforehand of the first ``count`` texts."""
        return self._read(list(range(count)))

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors computed beforehand where known, else the encoder's."""
        rows = [self._rows.get(text, -1) for text in texts]
        if min(rows, default=0) >= 0:
            return self._read(rows)
        return np.asarray(self._encoder.encode(texts), dtype=np.float32)


def encoder_for(workload: str) -> Any:
    """The encoder of a workload (``sparse``: the offline encoder; ``dense``: the one above)."""
    if workload == "sparse":
        return HashingEncoder()
    if workload == "dense":
        return DenseHashingEncoder()
    raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, not {workload!r}")
