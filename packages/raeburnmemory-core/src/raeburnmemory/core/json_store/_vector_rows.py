"""Where each stored prompt vector is: a row of the vectors file, or a row of a journal line.

A vector location is ``(line offset, line length, row)``: the offset and length of the journal's
``add`` line and the row in its vectors, or :data:`IN_VECTORS_FILE`, ``0`` and the row of the
vectors file the map lists. Plain tuples keep a store of millions of vectors small and fast to
open.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_store._files import StoreFiles, no_gc
from raeburnmemory.core.json_store._journal import JournalFile, decode_vectors
from raeburnmemory.core.json_store._map_file import MapFile
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.json_store._vector_file import read_vector_file, read_vector_info
from raeburnmemory.core.store import Matrix, StoredVectors

__all__ = ["IN_VECTORS_FILE", "VectorLocation", "VectorRows"]

#: The line offset of a vector that is a row of the vectors file.
IN_VECTORS_FILE = -1
#: (journal line offset or ``IN_VECTORS_FILE``, line length, row)
VectorLocation = tuple[int, int, int]


class VectorRows:
    """The location of every stored vector, their dimension and the vectors file's format."""

    def __init__(self, files: StoreFiles) -> None:
        self._files = files
        #: prompt id -> where its vector is
        self.locations: dict[str, VectorLocation] = {}
        self.dim: int | None = None
        self.file_format: str | None = None
        self.file_crc: int | None = None  # the vectors file's CRC-32 (None: an older map)

    def __len__(self) -> int:
        return len(self.locations)

    def install(self, mapping: MapFile, records: Mapping[str, StoredInteraction]) -> None:
        """Take the vectors file's rows from the map, checked against the file and ``records``."""
        files = self._files
        self.dim = mapping.dim
        self.file_format = mapping.fmt
        self.file_crc = mapping.vectors_crc
        self.locations = {}
        if mapping.fmt is None:
            if mapping.ids:
                raise CorruptStoreError(files.map, "lists vectors but names no vectors file")
            return
        info = read_vector_info(files.vectors(mapping.fmt), mapping.fmt)
        if info.rows != len(mapping.ids) or (info.rows and info.dim != mapping.dim):
            raise CorruptStoreError(
                info.path,
                f"holds {info.rows} vectors of {info.dim} dimensions but {files.map.name} lists "
                f"{len(mapping.ids)} of {mapping.dim}",
            )
        missing = [pid for pid in mapping.ids if pid not in records]
        if missing:
            raise CorruptStoreError(
                files.map, f"lists prompts the snapshot does not hold: {missing[:3]!r}"
            )
        self.locations = {pid: (IN_VECTORS_FILE, 0, row) for row, pid in enumerate(mapping.ids)}

    def all_vectors(
        self, journal: JournalFile, records: Mapping[str, StoredInteraction]
    ) -> StoredVectors:
        """Every live vector: the vectors file's rows first, then the journal's (under the lock)."""
        ids = list(self.locations)
        if not ids:
            return StoredVectors()
        locations = list(self.locations.values())
        dim = int(self.dim or 0)
        file_rows = [loc[2] for loc in locations if loc[0] == IN_VECTORS_FILE]
        matrix: Matrix
        if file_rows:
            assert self.file_format is not None
            info = read_vector_info(self._files.vectors(self.file_format), self.file_format)
            if len(file_rows) == len(ids) == info.rows:
                # unchanged since the snapshot
                matrix = read_vector_file(info, mapped=True, crc=self.file_crc)
            else:
                # one buffer: the file's rows, packed in place, then the journal's after them
                buffer = np.empty((max(info.rows, len(ids)), dim), dtype=np.float32)
                read_vector_file(info, into=buffer[: info.rows], crc=self.file_crc)
                _pack_rows(buffer, file_rows)
                matrix = buffer[: len(ids)]
        else:
            matrix = np.empty((len(ids), dim), dtype=np.float32)
        self.read_from_journal(journal, matrix, locations, len(file_rows))
        with no_gc():
            payloads = [records[pid].payload() for pid in ids]
        return StoredVectors(ids=ids, vectors=matrix, payloads=payloads)

    @staticmethod
    def read_from_journal(
        journal: JournalFile,
        matrix: Matrix,
        locations: list[VectorLocation],
        start: int,
        positions: list[int] | None = None,
    ) -> None:
        """Decode the journal rows at ``locations[start:]`` into ``matrix`` (at ``positions``)."""
        by_line: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for index in range(start, len(locations)):
            offset, length, row = locations[index]
            target = index if positions is None else positions[index]
            by_line.setdefault((offset, length), []).append((target, row))
        for (offset, length), places in by_line.items():
            block = decode_vectors(journal.read_line(offset, length))
            matrix[[p for p, _ in places]] = block[[r for _, r in places]]


def _pack_rows(buffer: Matrix, rows: list[int], chunk: int = 4096) -> None:
    """Move ``buffer[rows]`` to the front, in place (``rows`` ascending, so never overtaken)."""
    if rows == list(range(len(rows))):
        return
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        buffer[start : start + len(part)] = buffer[part]
