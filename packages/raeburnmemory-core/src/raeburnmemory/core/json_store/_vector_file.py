"""The JSON store's vectors file: a FAISS flat inner-product index or a ``.npy`` matrix.

Both formats are a small header followed by the float32 rows in C order, so they are read and
written here without faiss: the ``.faiss`` file is byte for byte what ``faiss.write_index``
writes for an ``IndexFlatIP`` (and ``faiss.read_index`` opens it), and the ``.npy`` file is a
plain numpy array file. Rows are written in a stream and the header is fixed up at the end, so
a compaction never needs all vectors in memory twice. The CRC-32 of the whole file is computed
when it is finished (the map records it) and checked when the rows are read, so a damaged byte
is reported instead of changing search results.
"""

from __future__ import annotations

import importlib.util
import io
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from raeburnmemory.core.errors import CorruptStoreError, StorePermissionError
from raeburnmemory.core.store import Matrix

__all__ = [
    "SUFFIXES",
    "VectorFileInfo",
    "VectorFileWriter",
    "file_crc",
    "preferred_format",
    "read_vector_file",
    "read_vector_info",
]

#: File name suffix (after ``graph.json``) of each vectors format.
SUFFIXES = {"faiss": ".faiss", "npy": ".vectors.npy"}

# faiss: fourcc "IxFI", d (int32), ntotal (int64), two dummies (int64 1 << 20), is_trained
# (uint8), metric type (int32, 0 = inner product), then the codes as a vector: its length in
# 4-byte units (uint64) and the float32 data.
_FAISS_HEAD = struct.Struct("<4siqqqBiQ")
_FAISS_FOURCC = b"IxFI"
_FAISS_DUMMY = 1 << 20
_NPY_MAGIC = b"\x93NUMPY\x01\x00"
# A fixed 128-byte npy header (magic, length, dict padded with spaces) so it can be fixed up.
_NPY_HEAD_SIZE = 128


def preferred_format() -> str:
    """``"faiss"`` when faiss is importable, else ``"npy"``."""
    try:
        found = importlib.util.find_spec("faiss") is not None
    except (ImportError, ValueError):
        found = False
    return "faiss" if found else "npy"


def _faiss_header(rows: int, dim: int) -> bytes:
    return _FAISS_HEAD.pack(_FAISS_FOURCC, dim, rows, _FAISS_DUMMY, _FAISS_DUMMY, 1, 0, rows * dim)


def _npy_header(rows: int, dim: int) -> bytes:
    text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}"
    body_len = _NPY_HEAD_SIZE - len(_NPY_MAGIC) - 2
    body = text.ljust(body_len - 1) + "\n"
    if len(body) != body_len:  # pragma: no cover - needs more than 10**50 rows
        raise ValueError("vector matrix too large for the npy header")
    return _NPY_MAGIC + struct.pack("<H", body_len) + body.encode("latin1")


def _header(fmt: str, rows: int, dim: int) -> bytes:
    return _faiss_header(rows, dim) if fmt == "faiss" else _npy_header(rows, dim)


class VectorFileInfo:
    """Where the rows of a vectors file are: count, dimension and byte offset of row 0."""

    __slots__ = ("dim", "offset", "path", "rows")

    def __init__(self, path: Path, rows: int, dim: int, offset: int) -> None:
        self.path = path
        self.rows = rows
        self.dim = dim
        self.offset = offset


def _read_faiss_info(path: Path, fh: BinaryIO, size: int) -> VectorFileInfo:
    head = fh.read(_FAISS_HEAD.size)
    if len(head) < _FAISS_HEAD.size:
        raise CorruptStoreError(path, "the FAISS index header is truncated")
    fourcc, dim, rows, _, _, _, metric, count = _FAISS_HEAD.unpack(head)
    if fourcc != _FAISS_FOURCC or metric != 0:
        raise CorruptStoreError(
            path, f"not a flat inner-product FAISS index (type {fourcc!r}, metric {metric})"
        )
    if dim < 0 or rows < 0 or count != rows * dim:
        raise CorruptStoreError(path, "the FAISS index header is inconsistent")
    expected = _FAISS_HEAD.size + 4 * count
    if size != expected:
        raise CorruptStoreError(path, f"the file has {size} bytes where {expected} are expected")
    return VectorFileInfo(path, rows, dim, _FAISS_HEAD.size)


def _read_npy_info(path: Path, fh: BinaryIO, size: int) -> VectorFileInfo:
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, SyntaxError) as exc:
        raise CorruptStoreError(path, f"not a numpy array file ({exc})") from None
    if dtype != np.dtype("<f4") or fortran or len(shape) != 2:
        raise CorruptStoreError(
            path, f"expected a 2-D float32 matrix, found {dtype} of shape {shape}"
        )
    rows, dim = (int(n) for n in shape)
    offset = fh.tell()
    expected = offset + 4 * rows * dim
    if size != expected:
        raise CorruptStoreError(path, f"the file has {size} bytes where {expected} are expected")
    return VectorFileInfo(path, rows, dim, offset)


def read_vector_info(path: Path, fmt: str) -> VectorFileInfo:
    """Check a vectors file's header and size; ``CorruptStoreError`` if they are wrong."""
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if fmt == "faiss":
                return _read_faiss_info(path, fh, size)
            return _read_npy_info(path, fh, size)
    except FileNotFoundError:
        raise CorruptStoreError(path, "the vectors file is missing") from None


_CRC_CHUNK = 16 << 20


def file_crc(fd: int, start: int = 0, end: int | None = None, crc: int = 0) -> int:
    """The CRC-32 of bytes ``start`` to ``end`` (default: the end) of an open file."""
    stop = os.fstat(fd).st_size if end is None else end
    for offset in range(start, stop, _CRC_CHUNK):
        crc = zlib.crc32(os.pread(fd, min(_CRC_CHUNK, stop - offset), offset), crc)
    return crc


def read_vector_file(
    info: VectorFileInfo,
    *,
    mapped: bool = False,
    into: Matrix | None = None,
    crc: int | None = None,
) -> Matrix:
    """Every row of a vectors file as a (rows, dim) float32 matrix.

    With ``mapped`` the matrix is a read-only memory map of the file (no copy is made; the
    mapping stays valid after the file is replaced); with ``into`` (a C-contiguous float32
    array of the file's shape) the rows are read into it; otherwise into a fresh array. With
    ``crc`` (the map's) the whole file is checked against it (``CorruptStoreError``).
    """
    try:
        with info.path.open("rb") as fh:  # header and rows from one file, even if it is replaced
            rows = _read_rows(info, fh, mapped, into)
            found = None if crc is None else zlib.crc32(os.pread(fh.fileno(), info.offset, 0))
    except PermissionError:
        raise StorePermissionError(info.path, "read") from None
    except OSError as exc:
        raise CorruptStoreError(info.path, f"cannot read the vectors ({exc})") from None
    if found is not None and zlib.crc32(rows.data.cast("B"), found) != crc:
        raise CorruptStoreError(info.path, "the vectors do not match their checksum in the map")
    return rows


def _read_rows(
    info: VectorFileInfo, fh: io.BufferedReader, mapped: bool, into: Matrix | None
) -> Matrix:
    if info.rows == 0:
        return np.zeros((0, info.dim), dtype=np.float32)
    if mapped:
        rows: Matrix = np.memmap(
            fh, dtype="<f4", mode="r", offset=info.offset, shape=(info.rows, info.dim)
        )
        return rows
    target = np.empty((info.rows, info.dim), dtype=np.float32) if into is None else into
    if target.shape != (info.rows, info.dim) or not target.flags.c_contiguous:
        raise ValueError(f"cannot read {info.rows} x {info.dim} rows into {target.shape}")
    fh.seek(info.offset)
    if fh.readinto(target.data.cast("B")) != target.nbytes:
        raise CorruptStoreError(info.path, "the vectors file is shorter than its header says")
    return target


class VectorFileWriter:
    """Writes a vectors file row block by row block, then fixes up its header.

    Rows may be overwritten (:meth:`set_row`) before :meth:`finish`, which flushes the file to
    disk. The caller renames it into place.
    """

    def __init__(self, path: Path, fmt: str, dim: int) -> None:
        self.path = path
        self.fmt = fmt
        self.dim = dim
        self.rows = 0
        self._fh = path.open("w+b")  # read back for the checksum
        self._fh.write(_header(fmt, 0, dim))
        self._offset = self._fh.tell()

    def append(self, rows: Matrix) -> None:
        """Append a (n, dim) block of rows."""
        block = np.ascontiguousarray(rows, dtype="<f4")
        if block.ndim != 2 or (block.shape[0] and block.shape[1] != self.dim):
            raise ValueError(f"expected rows of {self.dim} dimensions, got shape {block.shape}")
        self._fh.write(block.tobytes())
        self.rows += block.shape[0]

    def set_row(self, index: int, row: Matrix) -> None:
        """Overwrite row ``index`` (already appended)."""
        data = np.ascontiguousarray(row, dtype="<f4").reshape(self.dim).tobytes()
        self._fh.flush()
        os.pwrite(self._fh.fileno(), data, self._offset + 4 * self.dim * index)

    def finish(self) -> int:
        """Write the final header, flush the file to disk; returns the file's CRC-32."""
        self._fh.flush()
        fd = self._fh.fileno()
        os.pwrite(fd, _header(self.fmt, self.rows, self.dim), 0)
        os.fsync(fd)
        crc = file_crc(fd)
        self._fh.close()
        return crc

    def discard(self) -> None:
        """Close and remove an unfinished file (even when closing fails, as on a full disk)."""
        try:
            self._fh.close()
        except OSError:
            pass  # unflushed rows of a file that is being thrown away
        finally:
            self.path.unlink(missing_ok=True)
