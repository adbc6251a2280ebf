"""The JSON store's vectors file: a FAISS flat inner-product index or a ``.npy`` matrix.

Both formats are a small header followed by the float32 rows in C order, so they are read and
written here without faiss: the ``.faiss`` file is byte for byte what ``faiss.write_index``
writes for an ``IndexFlatIP`` (and ``faiss.read_index`` opens it), and the ``.npy`` file is a
plain numpy array file. Rows are written in a stream and the header is fixed up at the end, so
a compaction never needs all vectors in memory twice. The CRC-32 of the rows is computed as
they are written (the map records it with their count) and checked when the rows are read, so a
damaged byte is reported instead of changing search results; maps of format version 1 recorded
the CRC-32 of the whole file instead, which is checked the same way.

A compaction that only adds vectors appends their rows to the file in place
(:meth:`VectorFileWriter.extend`): the map lists how many rows are the store's, and rows past
them (left by a compaction a crash interrupted) are ignored by readers and cut off by the next
writer. Rows the map lists are never changed in place, so a process that has them mapped keeps
reading the same bytes.
"""

from __future__ import annotations

import contextlib
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
    "new_vector_file",
    "preferred_format",
    "read_vector_file",
    "read_vector_info",
    "rows_crc",
    "trim_vector_file",
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


def _fitted(path: Path, found: VectorFileInfo, size: int, listed: int | None) -> VectorFileInfo:
    """The file's rows, or with ``listed`` (the map's count) that many, checked against its size.

    Without ``listed`` the file must be exactly as long as its header says (maps of format
    version 1); with it, the file must hold at least the listed rows.
    """
    if listed is None:
        expected = found.offset + 4 * found.rows * found.dim
        if size != expected:
            raise CorruptStoreError(
                path, f"the file has {size} bytes where {expected} are expected"
            )
        return found
    needed = found.offset + 4 * listed * found.dim
    if size < needed:
        raise CorruptStoreError(
            path, f"the file has {size} bytes where at least {needed} are expected"
        )
    return VectorFileInfo(path, listed, found.dim, found.offset)


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
    return VectorFileInfo(path, rows, dim, fh.tell())


def read_vector_info(path: Path, fmt: str, rows: int | None = None) -> VectorFileInfo:
    """Check a vectors file's header and size; ``CorruptStoreError`` if they are wrong.

    ``rows`` is the number of rows the map lists when it records their CRC-32 (the file may be
    longer); ``None`` for older maps, whose file must match its header exactly.
    """
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if fmt == "faiss":
                found = _read_faiss_info(path, fh, size)
            else:
                found = _read_npy_info(path, fh, size)
            head = os.pread(fh.fileno(), found.offset, 0)
    except FileNotFoundError:
        raise CorruptStoreError(path, "the vectors file is missing") from None
    if rows is not None and head != _header(fmt, found.rows, found.dim):
        # the checksum covers the rows alone: the header must be exactly what the store writes
        raise CorruptStoreError(path, "the header is damaged (not the one written for the rows)")
    return _fitted(path, found, size, rows)


_CRC_CHUNK = 16 << 20


def file_crc(fd: int, start: int = 0, end: int | None = None, crc: int = 0) -> int:
    """The CRC-32 of bytes ``start`` to ``end`` (default: the end) of an open file."""
    stop = os.fstat(fd).st_size if end is None else end
    for offset in range(start, stop, _CRC_CHUNK):
        crc = zlib.crc32(os.pread(fd, min(_CRC_CHUNK, stop - offset), offset), crc)
    return crc


def rows_crc(fd: int, info: VectorFileInfo) -> int:
    """The CRC-32 of the rows ``info`` describes (not the header, nor rows past them)."""
    return file_crc(fd, info.offset, info.offset + 4 * info.rows * info.dim)


def read_vector_file(
    info: VectorFileInfo,
    *,
    mapped: bool = False,
    into: Matrix | None = None,
    crc: int | None = None,
    of_rows: bool = False,
) -> Matrix:
    """Every row of a vectors file as a (rows, dim) float32 matrix.

    With ``mapped`` the matrix is a read-only memory map of the file (no copy is made; the
    mapping stays valid after the file is replaced); with ``into`` (a C-contiguous float32
    array of the file's shape) the rows are read into it; otherwise into a fresh array. With
    ``crc`` (the map's) the whole file, or with ``of_rows`` the rows alone, is checked against it
    (``CorruptStoreError``).
    """
    try:
        with info.path.open("rb") as fh:  # header and rows from one file, even if it is replaced
            rows = _read_rows(info, fh, mapped, into)
            found = None
            if crc is not None:
                found = 0 if of_rows else zlib.crc32(os.pread(fh.fileno(), info.offset, 0))
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
    disk. A new file (the constructor) is renamed into place by the caller; :meth:`extend`
    appends to the store's own file in place instead.
    """

    def __init__(self, path: Path, fmt: str, dim: int) -> None:
        self.path = path
        self.fmt = fmt
        self.dim = dim
        self.rows = 0
        self._kept: int | None = None  # extend: the rows before, which discard() goes back to
        self._crc: int | None = 0  # CRC-32 of the rows so far; None once a row was overwritten
        self._fh = path.open("w+b")  # read back for the checksum
        self._fh.write(_header(fmt, 0, dim))
        self._offset = self._fh.tell()

    @classmethod
    def extend(cls, info: VectorFileInfo, fmt: str, crc: int) -> VectorFileWriter:
        """Append to the file ``info`` describes, after its first ``info.rows`` rows (whose
        CRC-32 is ``crc``); rows past them are cut off first."""
        writer = cls.__new__(cls)
        writer.path, writer.fmt, writer.dim = info.path, fmt, info.dim
        writer.rows = writer._kept = info.rows
        writer._crc = crc
        writer._offset = info.offset
        writer._fh = info.path.open("r+b")
        try:
            writer._fh.truncate(writer._row_offset(info.rows))
            writer._fh.seek(0, os.SEEK_END)
        except BaseException:
            writer._fh.close()
            raise
        return writer

    @classmethod
    def adopt(cls, info: VectorFileInfo, fmt: str, rows: int, crc: int) -> VectorFileWriter:
        """Take the ``rows`` the file ``info`` describes already holds (its first ``info.rows``
        listed, the others written past them; ``crc`` is the CRC-32 of them all), so that
        :meth:`finish` lists them and :meth:`discard` cuts the file back to the listed ones."""
        writer = cls.__new__(cls)
        writer.path, writer.fmt, writer.dim = info.path, fmt, info.dim
        writer._kept = info.rows
        writer.rows = rows
        writer._crc = crc
        writer._offset = info.offset
        writer._fh = info.path.open("r+b")
        return writer

    def _row_offset(self, row: int) -> int:
        return self._offset + 4 * self.dim * row

    def append(self, rows: Matrix) -> None:
        """Append a (n, dim) block of rows."""
        block = np.ascontiguousarray(rows, dtype="<f4")
        if block.ndim != 2 or (block.shape[0] and block.shape[1] != self.dim):
            raise ValueError(f"expected rows of {self.dim} dimensions, got shape {block.shape}")
        data = block.data.cast("B")
        if self._crc is not None:
            self._crc = zlib.crc32(data, self._crc)
        self._fh.write(data)
        self.rows += block.shape[0]

    def set_row(self, index: int, row: Matrix) -> None:
        """Overwrite row ``index`` (appended by this writer)."""
        if self._kept is not None and index < self._kept:
            raise ValueError("rows the store lists are never overwritten")
        data = np.ascontiguousarray(row, dtype="<f4").reshape(self.dim).tobytes()
        self._fh.flush()
        os.pwrite(self._fh.fileno(), data, self._row_offset(index))
        self._crc = None

    def finish(self, *, sync: bool = True) -> int:
        """Write the final header, flush the file to disk (with ``sync=False`` the caller forces
        it there); returns the CRC-32 of its rows."""
        self._fh.flush()
        fd = self._fh.fileno()
        os.pwrite(fd, _header(self.fmt, self.rows, self.dim), 0)
        if sync:
            os.fsync(fd)
        crc = self._crc
        if crc is None:
            crc = file_crc(fd, self._offset, self._row_offset(self.rows))
        self._fh.close()
        return crc

    def discard(self) -> None:
        """Undo: remove an unfinished new file, or cut an extended one back to its old rows
        (even when closing fails, as on a full disk)."""
        try:
            self._fh.close()
        except OSError:
            pass  # unflushed rows of a file that is being thrown away
        finally:
            if self._kept is not None:
                kept = VectorFileInfo(self.path, self._kept, self.dim, self._offset)
                with contextlib.suppress(OSError):
                    trim_vector_file(kept, self.fmt)
            else:
                self.path.unlink(missing_ok=True)


def new_vector_file(path: Path, fmt: str, dim: int) -> None:
    """Make ``path`` an empty vectors file (a header listing no row), replacing its content."""
    with path.open("wb") as fh:
        fh.write(_header(fmt, 0, dim))


def trim_vector_file(info: VectorFileInfo, fmt: str) -> None:
    """Cut the file back to the rows ``info`` lists and make its header say so (under the lock).

    Used after a compaction that appended rows failed or was interrupted: the file is then
    exactly the one the map describes again.
    """
    with info.path.open("r+b") as fh:
        fd = fh.fileno()
        end = info.offset + 4 * info.rows * info.dim
        header = _header(fmt, info.rows, info.dim)
        if os.fstat(fd).st_size == end and os.pread(fd, len(header), 0) == header:
            return
        os.truncate(fd, end)
        os.pwrite(fd, header, 0)
        os.fsync(fd)
