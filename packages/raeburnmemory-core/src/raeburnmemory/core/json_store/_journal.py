"""The JSON store's journal: one JSON object a line, appended by every write.

The first line is the header ``{"op": "journal", "generation": G}``; each later line is one
durable write (``add``, ``delete``, ``link``, ``encoder``). A last line without its newline was
torn by a crash and never acknowledged: readers leave it alone and the next writer cuts it off.
Any other line that cannot be read makes the journal corrupt.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_text import loads
from raeburnmemory.core.store import Matrix

__all__ = [
    "JournalLine",
    "decode_vectors",
    "header_line",
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
    """A complete journal line: where it is, its 1-based number and its record."""

    __slots__ = ("length", "number", "offset", "record")

    def __init__(self, offset: int, length: int, number: int, record: dict[str, Any]) -> None:
        self.offset = offset
        self.length = length
        self.number = number
        self.record = record


def _check(path: Path, number: int, record: dict[str, Any]) -> None:
    op = record["op"]
    if op not in _OPS:
        raise CorruptStoreError(path, f"line {number}: unknown record {op!r}")
    if op == "add":
        items, vectors = record.get("items"), record.get("vectors")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise CorruptStoreError(path, f"line {number}: 'items' must be a list of objects")
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


def decode_vectors(record: dict[str, Any]) -> Matrix:
    """The (items, dim) matrix of an ``add`` record with vectors."""
    data = base64.b64decode(record["vectors"])
    rows = np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False)
    return rows.reshape(len(record["items"]), int(record["dim"]))
