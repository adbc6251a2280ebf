"""The JSON store's journal: one JSON object a line, appended by every write.

The first line is the header ``{"op": "journal", "generation": G}``; each later line is one
durable write (``add``, ``delete``, ``link``, ``encoder``); an ``add`` line with ``replace`` puts
its interactions in place of the stored prompts it names, keeping their links. A last line
without its newline was torn by a crash and never acknowledged: readers leave it alone and the
next writer cuts it off. Any other line that cannot be read makes the journal corrupt.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.core._fsync import fsync_dir
from raeburnmemory.core._os_errors import file_error
from raeburnmemory.core.errors import CorruptStoreError, InvalidInteractionError, StoreError
from raeburnmemory.core.json_text import loads
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Matrix

__all__ = [
    "AddLine",
    "JournalFile",
    "JournalLine",
    "TornAppendError",
    "add_line",
    "decode_vectors",
    "header_line",
    "line_vectors",
    "read_header",
    "read_line",
    "scan_lines",
]

_CHUNK = 16 << 20
_OPS = frozenset({"add", "delete", "link", "encoder"})


def header_line(generation: int) -> bytes:
    """The first line of a journal of ``generation``."""
    return (json.dumps({"op": "journal", "generation": generation}) + "\n").encode()


def _parse(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    try:
        record = loads(raw)
    except ValueError as exc:
        raise CorruptStoreError(path, f"line {number} is not valid JSON ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("op"), str):
        raise CorruptStoreError(path, f"line {number} is not a journal record")
    return record


def read_header(path: Path, fd: int) -> tuple[int, int]:
    """The generation in a journal's header and the header's length in bytes."""
    head = os.pread(fd, 4096, 0)
    end = head.find(b"\n")
    if end < 0:
        raise CorruptStoreError(path, "line 1: the journal header is missing or truncated")
    record = _parse(path, 1, head[:end])
    generation = record.get("generation")
    if record["op"] != "journal" or not isinstance(generation, int):
        raise CorruptStoreError(path, "line 1 is not a journal header")
    return generation, end + 1


class JournalLine:
    """A complete journal line: where it is, its 1-based number and its fields."""

    __slots__ = ("fields", "length", "number", "offset")

    def __init__(self, offset: int, length: int, number: int, fields: dict[str, Any]) -> None:
        self.offset = offset
        self.length = length
        self.number = number
        self.fields = fields


def _check(path: Path, number: int, record: dict[str, Any]) -> None:
    op = record["op"]
    if op not in _OPS:
        raise CorruptStoreError(path, f"line {number}: unknown record {op!r}")
    if op == "add":
        items, vectors = record.get("items"), record.get("vectors")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise CorruptStoreError(path, f"line {number}: 'items' must be a list of objects")
        replaced = record.get("replace", [])
        if not isinstance(replaced, list) or not all(isinstance(i, str) for i in replaced):
            raise CorruptStoreError(path, f"line {number}: 'replace' must be a list of strings")
        if vectors is not None:
            dim = record.get("dim")
            if not isinstance(vectors, str) or not isinstance(dim, int) or dim < 1:
                raise CorruptStoreError(path, f"line {number}: malformed vectors")
            size = 4 * dim * len(items)
            if len(vectors) != 4 * ((size + 2) // 3):
                raise CorruptStoreError(
                    path, f"line {number}: the vectors do not match its {len(items)} items"
                )
    elif op == "delete":
        ids = record.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise CorruptStoreError(path, f"line {number}: 'ids' must be a list of strings")
    elif op == "link":
        if not all(isinstance(record.get(k), str) for k in ("source", "target", "relation")):
            raise CorruptStoreError(path, f"line {number}: malformed link")
    elif not isinstance(record.get("name"), str) or not isinstance(record.get("dim"), int):
        raise CorruptStoreError(path, f"line {number}: malformed encoder record")


def scan_lines(path: Path, fd: int, offset: int, number: int) -> Iterator[JournalLine]:
    """Every complete line from byte ``offset`` on; ``number`` is the last line's number before.

    A trailing piece without a newline is not returned (the caller's offset stops before it).
    """
    position = offset
    pending = b""
    while True:
        chunk = os.pread(fd, _CHUNK, position + len(pending))
        if not chunk:
            return
        data = pending + chunk
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            number += 1
            raw = data[start:end]
            record = _parse(path, number, raw)
            _check(path, number, record)
            yield JournalLine(position + start, end + 1 - start, number, record)
            start = end + 1
        position += start
        pending = data[start:]


def read_line(fd: int, offset: int, length: int) -> dict[str, Any]:
    """The record of the line at ``offset`` (already checked when it was scanned)."""
    record: dict[str, Any] = loads(os.pread(fd, length, offset))
    return record


_DIM_KEY = b'"dim": '
_VECTORS_KEY = b'"vectors": "'
_ITEMS_KEY = b'"items": '


def line_vectors(fd: int, offset: int, length: int) -> Matrix:
    """The vectors of the ``add`` line at ``offset``, decoded without parsing its interactions.

    :func:`add_line` writes the dimension and the vectors before the interactions; a key
    followed by an unescaped quote cannot occur inside a JSON string, so the first ``"items"``
    key is the line's own and the keys before it are too. A line laid out otherwise is parsed.
    """
    raw = os.pread(fd, length, offset)
    items = raw.find(_ITEMS_KEY)
    start = raw.find(_VECTORS_KEY, 0, max(items, 0))
    dim_at = raw.find(_DIM_KEY, 0, max(start, 0))
    if items < 0 or start < 0 or dim_at < 0:
        return decode_vectors(loads(raw))
    start += len(_VECTORS_KEY)
    dim = int(raw[dim_at + len(_DIM_KEY) : raw.index(b",", dim_at)])
    data = base64.b64decode(memoryview(raw)[start : raw.index(b'"', start)])
    return np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False).reshape(-1, dim)


def decode_vectors(record: dict[str, Any]) -> Matrix:
    """The (items, dim) matrix of an ``add`` record with vectors."""
    data = base64.b64decode(record["vectors"])
    rows = np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False)
    return rows.reshape(len(record["items"]), int(record["dim"]))


class AddLine:
    """One ``add`` line of the journal: its bytes, its interactions and their dicts."""

    __slots__ = ("data", "dicts", "items")

    def __init__(self, data: bytes, items: list[Interaction], dicts: list[dict[str, Any]]) -> None:
        self.data = data
        self.items = items
        self.dicts = dicts


def add_line(
    items: list[Interaction], rows: Matrix | None, start: int, replaced: Sequence[str] = ()
) -> AddLine:
    """The ``add`` line of ``items``, whose vectors are ``rows[start:]`` (``InvalidInteraction``
    when an item is not JSON-serializable); ``replaced`` names the stored prompts it replaces
    (their links are kept)."""
    dicts = [item.to_dict() for item in items]
    try:
        items_json = json.dumps(dicts, allow_nan=False)
    except (TypeError, ValueError):
        raise _not_serializable(items) from None
    head = '{"op": "add"'
    if replaced:
        head += f', "replace": {json.dumps(list(replaced))}'
    if rows is not None:
        part = rows[start : start + len(items)]
        encoded = base64.b64encode(np.ascontiguousarray(part, dtype="<f4").tobytes())
        head += f', "dim": {int(part.shape[1])}, "vectors": "{encoded.decode("ascii")}"'
    return AddLine(f'{head}, "items": {items_json}}}\n'.encode(), items, dicts)


def _not_serializable(items: Sequence[Interaction]) -> InvalidInteractionError:
    for item in items:
        try:
            json.dumps(item.to_dict(), allow_nan=False)
        except (TypeError, ValueError) as exc:
            return InvalidInteractionError(
                f"prompt {item.prompt_id!r}: metadata and attributes must be JSON-serializable "
                f"({exc}); nothing was written"
            )
    return InvalidInteractionError("the interactions are not JSON-serializable")


class TornAppendError(StoreError):
    """Appending failed and the journal could not be cut back: ``complete`` lines were stored."""

    def __init__(self, path: Path, complete: int, cause: OSError) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.complete = complete
        self.cause = cause


class JournalFile:
    """The open journal: its descriptor and how far this process has read it.

    ``end`` is the offset after the last complete line read, ``last_line`` that line's number,
    ``size_seen`` the file's size at the last look, ``identity`` its (device, inode) and
    ``folded`` whether a compaction already folded its lines into the snapshot.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1
        self.generation = 0
        self.identity = (0, 0)
        self.end = 0
        self.last_line = 0
        self.size_seen = -1
        self.folded = False

    def open(self, generation: int) -> bool:
        """Open the journal of the snapshot of ``generation`` and read its header.

        Returns False when the file can only be read.
        """
        path = self.path
        writable = True
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            raise CorruptStoreError(path, "the journal is missing") from None
        except PermissionError:
            self.fd = os.open(path, os.O_RDONLY)
            writable = False
        stat = os.fstat(self.fd)
        self.identity = (stat.st_dev, stat.st_ino)
        header_generation, self.end = read_header(path, self.fd)
        self.last_line = 1
        if header_generation > generation:
            raise CorruptStoreError(
                path, f"generation {header_generation} is newer than the snapshot's {generation}"
            )
        self.generation = generation
        self.folded = header_generation < generation
        self.size_seen = stat.st_size
        return writable

    def close(self) -> None:
        """Close the descriptor (harmless twice)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def new_lines(self) -> Iterator[JournalLine]:
        """The complete lines past the last one read; each counts as read once it was handled."""
        for line in scan_lines(self.path, self.fd, self.end, self.last_line):
            yield line
            self.end = line.offset + line.length
            self.last_line = line.number

    def stat(self) -> os.stat_result | None:
        """The journal file's status now (``None`` when it is missing)."""
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            return None

    def changed(self) -> bool:
        """Whether the file was replaced or its size changed since the last look."""
        stat = self.stat()
        if stat is None:
            return True
        return (stat.st_dev, stat.st_ino) != self.identity or stat.st_size != self.size_seen

    def read_line(self, offset: int, length: int) -> dict[str, Any]:
        """The fields of the line at ``offset``."""
        return read_line(self.fd, offset, length)

    def read_vectors(self, offset: int, length: int) -> Matrix:
        """The vectors of the ``add`` line at ``offset`` (:func:`line_vectors`)."""
        return line_vectors(self.fd, offset, length)

    def append(self, lines: Iterable[bytes], *, fsync: bool) -> list[tuple[int, int]]:
        """Append whole lines durably, all or nothing; returns the offset and length of each.

        ``lines`` may be made as they are written: when making one raises, or a write fails,
        the journal is cut back to where it was, so none of the lines is stored. Should even
        that fail, :class:`TornAppendError` says how many lines were complete.
        """
        if self.folded:
            self._start_anew()
        fd = self.fd
        if os.fstat(fd).st_size != self.end:
            os.ftruncate(fd, self.end)  # a torn line a crash left: it was never acknowledged
        start = offset = self.end
        placed: list[tuple[int, int]] = []
        try:
            for data in lines:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                placed.append((offset, len(data)))
                offset += len(data)
            if fsync:
                os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, start)
            except OSError:
                raise TornAppendError(self.path, len(placed), exc) from None
            raise file_error(self.path, "write", exc, "nothing was written") from None
        except BaseException:  # a line could not be made: take back the ones before it
            if placed:
                os.ftruncate(fd, start)
            raise
        self.end = offset
        self.size_seen = offset
        self.last_line += len(placed)
        return placed

    def _start_anew(self) -> None:
        """Replace a journal a compaction already folded with an empty one of this generation."""
        temp = Path(f"{self.path}.tmp")
        with temp.open("wb") as fh:
            fh.write(header_line(self.generation))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, self.path)
        fsync_dir(self.path.parent)
        self.close()
        self.open(self.generation)
