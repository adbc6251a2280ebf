"""A copy of a FAISS HNSW graph beside the store, loaded at the next open instead of a rebuild.

Building the graph of 100,000 prompts takes tens of seconds; reading it back takes a fraction of
one. The copy is one file, ``<store>.hnsw``: the graph in FAISS's own format, then JSON with the
prompt id of every label, the CRC-32 of the graph's bytes and the ``ef_search`` measured for the
graph (with the size it was measured at), then the JSON's offset (8 bytes).
It is written to a temporary name and renamed, so a reader sees a whole copy or none.

The copy is derived data and never trusted: :func:`match` compares every vector in it with the
store's vector for the same prompt id, and a label whose prompt is gone or changed is dead. A
copy that cannot be read is ignored and the graph is rebuilt.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import json
import os
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["CachedGraph", "Tuning", "match", "read", "remove", "temporaries", "write"]

_FORMAT = 2
_FOOTER = 8
# Vectors are compared this many at a time (bounded extra memory).
_COMPARE_CHUNK = 8192
# A temporary copy untouched for this many seconds was left by a writer that died.
_ABANDONED_AFTER = 600.0


def _faiss() -> Any:
    return importlib.import_module("faiss")


@dataclass(frozen=True)
class Tuning:
    """The ``ef_search`` measured for a graph, and how many live prompts it held then."""

    ef_search: int
    size: int

    def to_json(self) -> dict[str, int]:
        """The form kept in the copy."""
        return {"ef_search": self.ef_search, "size": self.size}

    @classmethod
    def from_json(cls, value: Any) -> Tuning | None:
        """The tuning a copy recorded, or ``None`` when it has none (or none that makes sense)."""
        if not isinstance(value, dict):
            return None
        ef_search, size = value.get("ef_search"), value.get("size")
        if type(ef_search) is not int or type(size) is not int or ef_search < 1 or size < 1:
            return None
        return cls(ef_search, size)


@dataclass
class CachedGraph:
    """A graph read back from its copy: the FAISS index, the prompt id of every label, and the
    ``ef_search`` measured for it (``None`` when the copy has none)."""

    index: Any
    labels: list[str]
    tuning: Tuning | None = None

    def vectors(self) -> npt.NDArray[np.float32]:
        """The graph's own copy of its vectors, one row per label (a view into FAISS memory)."""
        faiss = _faiss()
        storage = faiss.downcast_index(self.index.storage)
        count, dim = int(self.index.ntotal), int(self.index.d)
        flat = faiss.rev_swig_ptr(storage.get_xb(), count * dim)
        return np.frombuffer(flat, dtype=np.float32).reshape(count, dim)


def read(path: Path, *, dim: int, m: int) -> CachedGraph | None:
    """The copy at ``path`` if it is whole and was built for ``dim`` and ``m``; else ``None``.

    The file is opened once, and the graph's bytes must match the checksum written with them:
    a graph damaged on disk would otherwise pass the vector check and answer badly.
    """
    try:
        faiss = _faiss()
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(size - _FOOTER)
            start = int.from_bytes(file.read(_FOOTER), "little")
            file.seek(start)
            meta = json.loads(file.read(size - _FOOTER - start))
            labels = meta["labels"]
            if meta.get("format") != _FORMAT or not all(isinstance(pid, str) for pid in labels):
                return None
            file.seek(0)
            checked = _ChecksummedReader(file, start)
            reader = faiss.PyCallbackIOReader(checked.read)
            index = faiss.read_index(reader)
            del reader
        if checked.crc != meta["crc32"] or checked.left:
            return None
    except Exception:
        return None
    if (
        not isinstance(index, faiss.IndexHNSWFlat)
        or index.d != dim
        or index.hnsw.nb_neighbors(1) != m
        or index.ntotal != len(labels)
        or index.metric_type != faiss.METRIC_INNER_PRODUCT
    ):
        return None
    return CachedGraph(index, labels, Tuning.from_json(meta.get("tuning")))


class _ChecksummedReader:
    """Hands FAISS the first ``size`` bytes of a file and keeps their CRC-32."""

    def __init__(self, file: Any, size: int) -> None:
        self._file = file
        self.left = size
        self.crc = 0

    def read(self, wanted: int) -> bytes:
        data = self._file.read(min(wanted, self.left))
        self.left -= len(data)
        self.crc = zlib.crc32(data, self.crc)
        return bytes(data)


def write(path: Path, index: Any, labels: list[str], tuning: Tuning | None = None) -> bool:
    """Write the copy of ``index`` (labels ``labels``, measured ``tuning``) to ``path``;
    whether it was written."""
    faiss = _faiss()
    _remove_abandoned(path)
    temp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with temp.open("wb") as file:
            crc = 0

            def put(data: bytes) -> None:
                nonlocal crc
                crc = zlib.crc32(data, crc)
                file.write(data)

            writer = faiss.PyCallbackIOWriter(put)
            faiss.write_index(index, writer)
            del writer
            start = file.tell()
            meta: dict[str, Any] = {"format": _FORMAT, "crc32": crc, "labels": labels}
            if tuning is not None:
                meta["tuning"] = tuning.to_json()
            file.write(json.dumps(meta).encode())
            file.write(start.to_bytes(_FOOTER, "little"))
        os.replace(temp, path)
    except Exception:
        with contextlib.suppress(OSError):
            temp.unlink()
        return False
    return True


def remove(path: Path) -> None:
    """Delete the copy at ``path``, if there is one."""
    with contextlib.suppress(OSError):
        path.unlink()


def temporaries(path: Path) -> list[Path]:
    """The temporary copies of ``path`` on disk now: being written, or left by a killed writer."""
    return sorted(path.parent.glob(f"{glob.escape(path.name)}.*.tmp"))


def _remove_abandoned(path: Path) -> None:
    """Delete temporary copies that a process killed while writing left behind."""
    deadline = time.time() - _ABANDONED_AFTER
    for temp in temporaries(path):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < deadline:
                temp.unlink()


def match(
    cached: CachedGraph, rows: dict[str, int], vectors: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
    """Which labels of ``cached`` still hold the store's vector, and that vector's row.

    ``rows`` maps each stored prompt id to its row of ``vectors``. A label is alive when its
    prompt is stored with exactly the same vector; of several such labels for one prompt, only
    the last is. Returns the alive mask and, per label, the stored row (-1 where dead).
    """
    labels = cached.labels
    row_of = np.fromiter((rows.get(pid, -1) for pid in labels), dtype=np.intp, count=len(labels))
    alive = np.zeros(len(labels), dtype=np.bool_)
    own = cached.vectors()
    for start in range(0, len(labels), _COMPARE_CHUNK):
        stop = min(start + _COMPARE_CHUNK, len(labels))
        chunk = row_of[start:stop]
        known = np.flatnonzero(chunk >= 0)
        same = np.all(own[start:stop][known] == vectors[chunk[known]], axis=1)
        alive[start + known[same]] = True
    # A prompt replaced by the same vector has several matching labels: keep the last one.
    live = np.flatnonzero(alive)
    reversed_rows = row_of[live][::-1]
    _, first_from_end = np.unique(reversed_rows, return_index=True)
    keep = np.zeros(len(labels), dtype=np.bool_)
    keep[live[len(live) - 1 - first_from_end]] = True
    row_of[~keep] = -1
    return keep, row_of
