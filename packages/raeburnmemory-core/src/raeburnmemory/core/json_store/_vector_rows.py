"""Where each stored prompt vector is: a row of the vectors file, or a row of a journal line.

A vector location is ``(line offset, line length, row)``: the offset and length of the journal's
``add`` line and the row in its vectors, or :data:`IN_VECTORS_FILE`, ``0`` and the row of the
vectors file the map lists. The rows of the vectors file are the map's list of ids, each
location made when asked for (:class:`ColumnMapping`), so opening a store of millions of vectors
builds nothing per vector. While rows of the vectors file have still to be reported to
``refresh()``, the file of the generation they were taken from stays open and mapped, so a row
number never reads the file of a later compaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

import numpy as np

from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_store._column_mapping import ColumnMapping
from raeburnmemory.core.json_store._files import StoreFiles
from raeburnmemory.core.json_store._journal import JournalFile
from raeburnmemory.core.json_store._map_file import MapFile
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.json_store._vector_file import (
    VectorFileInfo,
    file_crc,
    read_vector_file,
    read_vector_info,
    rows_crc,
)
from raeburnmemory.core.model import VectorPayload
from raeburnmemory.core.store import Matrix, StoredVectors

__all__ = ["IN_VECTORS_FILE", "VectorLocation", "VectorRows"]

#: The line offset of a vector that is a row of the vectors file.
IN_VECTORS_FILE = -1
#: (journal line offset or ``IN_VECTORS_FILE``, line length, row)
VectorLocation = tuple[int, int, int]


def _file_row(row: int) -> VectorLocation:
    """The location of row ``row`` of the vectors file."""
    return (IN_VECTORS_FILE, 0, row)


class VectorRows:
    """The location of every stored vector, their dimension and the vectors file's format."""

    def __init__(self, files: StoreFiles) -> None:
        self._files = files
        #: prompt id -> where its vector is
        self.locations: ColumnMapping[VectorLocation] = ColumnMapping()
        self.dim: int | None = None
        self.file_format: str | None = None
        self.file_crc: int | None = None  # the vectors file's CRC-32 (None: an older map)
        self.rows_crc: int | None = None  # ... or of its listed rows (format version 2)
        self.file_ids: list[str] = []  # the prompt id of each row of the vectors file
        self._file: BinaryIO | None = None  # this generation's vectors file, kept open
        self._file_rows: Matrix | None = None  # ... and mapped
        self._file_checked = False
        self._file_info: VectorFileInfo | None = None

    def __len__(self) -> int:
        return len(self.locations)

    def close(self) -> None:
        """Let the vectors file go (harmless twice)."""
        self._file_rows = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def install(
        self,
        mapping: MapFile,
        records: ColumnMapping[StoredInteraction],
        *,
        keep_file_open: bool = False,
    ) -> None:
        """Take the vectors file's rows from the map, checked against the file and ``records``.

        ``keep_file_open`` keeps the file mapped for :meth:`read`.
        """
        files = self._files
        self.dim = mapping.dim
        self.file_format = mapping.fmt
        self.file_crc = mapping.vectors_crc
        self.rows_crc = mapping.vectors_rows_crc
        self.file_ids = mapping.ids
        self.locations = ColumnMapping()
        if mapping.fmt is None:
            if mapping.ids:
                raise CorruptStoreError(files.map, "lists vectors but names no vectors file")
            return
        info = self.file_info()
        if info.rows != len(mapping.ids) or (info.rows and info.dim != mapping.dim):
            raise CorruptStoreError(
                info.path,
                f"holds {info.rows} vectors of {info.dim} dimensions but {files.map.name} lists "
                f"{len(mapping.ids)} of {mapping.dim}",
            )
        missing = records.missing(mapping.ids)
        if missing:
            raise CorruptStoreError(
                files.map, f"lists prompts the snapshot does not hold: {missing[:3]!r}"
            )
        if keep_file_open:
            self._keep_file_mapped(info)
        else:
            self.close()  # a file mapped by an earlier install holds other rows
        self.locations = ColumnMapping(mapping.ids, _file_row, keep=False)

    def file_info(self) -> VectorFileInfo:
        """The vectors file's header, checked against the rows the map lists."""
        fmt = self.file_format
        assert fmt is not None
        listed = len(self.file_ids) if self.rows_crc is not None else None
        return read_vector_info(self._files.vectors(fmt), fmt, listed)

    def _keep_file_mapped(self, info: VectorFileInfo) -> None:
        """Keep the vectors file open and mapped (it stays readable after a compaction)."""
        self.close()
        self._file_checked = False
        if not info.rows:
            return
        try:
            self._file = info.path.open("rb")
        except FileNotFoundError:
            raise CorruptStoreError(info.path, "the vectors file is missing") from None
        self._file_rows = np.memmap(
            self._file, dtype="<f4", mode="r", offset=info.offset, shape=(info.rows, info.dim)
        )
        self._file_info = info

    def _checked_file_rows(self) -> Matrix:
        """The mapped rows of the vectors file, checked once against the map's CRC-32."""
        if self._file_rows is None or self._file is None:
            self._keep_file_mapped(self.file_info())  # mapped on first use
        rows, handle = self._file_rows, self._file
        if rows is None or handle is None:  # a bug, not a damaged file
            raise RuntimeError("the vectors file holds none of the rows the map lists")
        if not self._file_checked:
            if self.rows_crc is not None:
                assert self._file_info is not None
                wrong = rows_crc(handle.fileno(), self._file_info) != self.rows_crc
            else:
                wrong = self.file_crc is not None and file_crc(handle.fileno()) != self.file_crc
            if wrong:
                raise CorruptStoreError(
                    self._files.vectors(self.file_format or ""),
                    "the vectors do not match their checksum in the map",
                )
            self._file_checked = True
        return rows

    def read(self, journal: JournalFile, ids: Sequence[str]) -> Matrix:
        """The vectors of ``ids`` (each must have one), from the vectors file or the journal."""
        locations = [self.locations[pid] for pid in ids]
        matrix = np.empty((len(ids), int(self.dim or 0)), dtype=np.float32)
        in_file = [i for i, place in enumerate(locations) if place[0] == IN_VECTORS_FILE]
        if in_file:
            file_rows = self._checked_file_rows()
            matrix[in_file] = file_rows[[locations[i][2] for i in in_file]]
        in_journal = [i for i, place in enumerate(locations) if place[0] != IN_VECTORS_FILE]
        journal_places = [locations[i] for i in in_journal]
        self.read_from_journal(journal, matrix, journal_places, 0, in_journal)
        return matrix

    def all_vectors(
        self,
        journal: JournalFile,
        payloads: Callable[[list[str]], list[VectorPayload]] | None,
    ) -> StoredVectors:
        """Every live vector: the vectors file's rows first, then the journal's (under the lock).

        ``payloads(ids)`` gives the payloads; without it they are left empty (for one scan that
        filters nothing).
        """
        if self.locations.untouched and self.file_format is not None and self.file_ids:
            # the vectors file's rows alone, unchanged since the snapshot: no location to make
            ids = list(self.file_ids)
            crc, of_rows = self._crc_to_check()
            mapped = read_vector_file(self.file_info(), mapped=True, crc=crc, of_rows=of_rows)
            return StoredVectors(ids, mapped, [] if payloads is None else payloads(ids))
        ids = list(self.locations)
        if not ids:
            return StoredVectors()
        locations = list(self.locations.values())
        dim = int(self.dim or 0)
        file_rows = [loc[2] for loc in locations if loc[0] == IN_VECTORS_FILE]
        matrix: Matrix
        if file_rows:
            info = self.file_info()
            crc, of_rows = self._crc_to_check()
            if len(file_rows) == len(ids) == info.rows:
                # unchanged since the snapshot
                matrix = read_vector_file(info, mapped=True, crc=crc, of_rows=of_rows)
            else:
                # one buffer: the file's rows, packed in place, then the journal's after them
                buffer = np.empty((max(info.rows, len(ids)), dim), dtype=np.float32)
                read_vector_file(info, into=buffer[: info.rows], crc=crc, of_rows=of_rows)
                _pack_rows(buffer, file_rows)
                matrix = buffer[: len(ids)]
        else:
            matrix = np.empty((len(ids), dim), dtype=np.float32)
        self.read_from_journal(journal, matrix, locations, len(file_rows))
        if payloads is None:
            return StoredVectors(ids=ids, vectors=matrix)
        return StoredVectors(ids=ids, vectors=matrix, payloads=payloads(ids))

    def _crc_to_check(self) -> tuple[int | None, bool]:
        """The map's CRC-32 of the vectors file, and whether it covers the rows alone."""
        if self.rows_crc is not None:
            return self.rows_crc, True
        return self.file_crc, False

    def file_blocks(self, chunk: int = 8192) -> Iterator[Matrix]:
        """The live rows of the vectors file in the order of :attr:`locations`, in blocks
        (checked against the map's CRC-32 first)."""
        rows = [loc[2] for loc in self.locations.values() if loc[0] == IN_VECTORS_FILE]
        if not rows:
            return
        crc, of_rows = self._crc_to_check()
        mapped = read_vector_file(self.file_info(), mapped=True, crc=crc, of_rows=of_rows)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            first = part[0]
            if part[-1] - first == len(part) - 1:  # a run of rows: one slice
                yield np.array(mapped[first : first + len(part)])
            else:
                yield mapped[part]

    def journal_blocks(
        self, journal: JournalFile, chunk: int = 8192
    ) -> Iterator[tuple[list[str], Matrix]]:
        """The ids and vectors still in the journal, in the order of :attr:`locations`, a few
        journal lines at a time (so a compaction never holds them all)."""
        ids: list[str] = []
        places: list[VectorLocation] = []
        for pid, place in self.locations.items():
            if place[0] == IN_VECTORS_FILE:
                continue
            if len(ids) >= chunk and place[0] != places[-1][0]:
                yield ids, self._journal_block(journal, places)
                ids, places = [], []
            ids.append(pid)
            places.append(place)
        if ids:
            yield ids, self._journal_block(journal, places)

    def _journal_block(self, journal: JournalFile, places: list[VectorLocation]) -> Matrix:
        matrix = np.empty((len(places), int(self.dim or 0)), dtype=np.float32)
        self.read_from_journal(journal, matrix, places, 0)
        return matrix

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
            block = journal.read_vectors(offset, length)
            matrix[[p for p, _ in places]] = block[[r for _, r in places]]


def _pack_rows(buffer: Matrix, rows: list[int], chunk: int = 4096) -> None:
    """Move ``buffer[rows]`` to the front, in place (``rows`` ascending, so never overtaken)."""
    if rows == list(range(len(rows))):
        return
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        buffer[start : start + len(part)] = buffer[part]
