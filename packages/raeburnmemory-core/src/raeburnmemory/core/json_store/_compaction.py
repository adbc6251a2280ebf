"""Folding the journal into a new snapshot, and finishing a compaction a crash interrupted.

A compaction writes every new file beside the old one with a ``.tmp`` suffix (vectors file,
snapshot, map, then the journal last) and renames them over the old ones in the order
:meth:`StoreFiles.renames` gives. A complete temporary journal therefore means every temporary
file was complete before the first rename: :func:`recover` finishes the renames, otherwise it
removes the temporary files. Every function here runs under the store's lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from raeburnmemory.core import checks
from raeburnmemory.core._fsync import fsync_dir
from raeburnmemory.core._os_errors import file_error
from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_store import _vector_file
from raeburnmemory.core.json_store._files import StoreFiles
from raeburnmemory.core.json_store._follower import JournalFollower
from raeburnmemory.core.json_store._journal import header_line, read_header
from raeburnmemory.core.json_store._map_file import MapFile, read_map, write_map
from raeburnmemory.core.json_store._snapshot import FORMAT, VERSION, write_snapshot
from raeburnmemory.core.json_store._vector_file import VectorFileWriter
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.store import Matrix

__all__ = [
    "COMPACT_JOURNAL_BYTES",
    "commit_snapshot",
    "compact",
    "journal_is_large",
    "recover",
    "replace_vectors",
]

#: The journal is folded into the snapshot on close past this size (or the snapshot's).
COMPACT_JOURNAL_BYTES = 64 << 20


def compact(view: JournalFollower) -> None:
    """Fold the journal into a new snapshot, vectors file and map, then load them."""
    files = view.files
    stored = view.rows.all_vectors(view.journal, view.state.records)
    fmt = _vector_file.preferred_format() if len(stored) else None
    temp: Path | None = None
    crc = None
    if fmt is not None:
        temp = files.temp(files.vectors(fmt))
        try:
            writer = VectorFileWriter(temp, fmt, stored.vectors.shape[1])
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise file_error(temp, "write", exc) from None
        try:
            writer.append(stored.vectors)
            crc = writer.finish()
        except BaseException as exc:
            writer.discard()
            if isinstance(exc, OSError):
                raise file_error(temp, "write", exc) from None
            raise
    ids = stored.ids
    del stored
    commit_snapshot(view, (ids, fmt, crc), temp)


def replace_vectors(
    view: JournalFollower, batches: Iterable[tuple[list[str], Matrix]], info: EncoderInfo
) -> None:
    """Write a new snapshot whose vectors are ``batches``, made by ``info``: all or nothing."""
    files = view.files
    fmt = _vector_file.preferred_format()
    writer = VectorFileWriter(files.temp(files.vectors(fmt)), fmt, info.dim)
    rows: dict[str, int] = {}
    try:
        for ids, matrix in batches:
            _write_batch(view, writer, rows, list(ids), matrix, info)
        crc = writer.finish()
    except BaseException:
        writer.discard()
        raise
    before = (view.encoder, view.rows.dim, view.vectors_epoch)
    view.encoder, view.rows.dim, view.vectors_epoch = info, info.dim, view.vectors_epoch + 1
    try:
        commit_snapshot(view, (list(rows), fmt if rows else None, crc), writer.path)
    except BaseException:
        view.encoder, view.rows.dim, view.vectors_epoch = before
        raise
    view.unreported.added.clear()  # every vector changed: readers start over
    view.unreported.reset = True


def _write_batch(
    view: JournalFollower,
    writer: VectorFileWriter,
    rows: dict[str, int],
    ids: list[str],
    matrix: Matrix,
    info: EncoderInfo,
) -> None:
    block = checks.vectors_for_ids(ids, matrix, info.dim)
    take: list[int] = []
    for index, pid in enumerate(ids):
        if pid not in view.state:
            continue
        if pid in rows:
            writer.set_row(rows[pid], block[index])
        else:
            rows[pid] = len(rows)
            take.append(index)
    if take:
        writer.append(block[take])


def commit_snapshot(
    view: JournalFollower,
    vectors: tuple[list[str], str | None, int | None] | None,
    vectors_temp: Path | None,
) -> None:
    """Write snapshot, map and journal of the next generation, rename them into place, load them.

    ``vectors`` is the (ids, format, CRC-32) of the finished vectors file at ``vectors_temp``.
    """
    files = view.files
    encoder_info = view.encoder
    ids, fmt, vectors_crc = vectors if vectors is not None else ([], None, None)
    generation = view.generation + 1
    dim = view.rows.dim if fmt is not None else (encoder_info.dim if encoder_info else None)
    encoder = None
    if encoder_info is not None:
        encoder = {"name": encoder_info.name, "dim": encoder_info.dim}
    attrs = {
        "format": FORMAT,
        "version": VERSION,
        "generation": generation,
        "encoder": encoder,
        "vectors": fmt,
        "dim": dim,
    }
    graph_temp, map_temp, journal_temp = (
        files.temp(p) for p in (files.graph, files.map, files.journal)
    )
    writing = graph_temp
    try:
        crc, size, index = write_snapshot(graph_temp, view.state, attrs)
        writing = map_temp
        content = MapFile(
            generation,
            view.vectors_epoch,
            fmt,
            dim,
            ids,
            crc,
            size,
            encoder=encoder,
            snapshot_index=index,
            vectors_crc=vectors_crc if fmt is not None else None,
        )
        write_map(map_temp, content)
        writing = journal_temp
        with journal_temp.open("wb") as fh:  # written last: all temporary files are ready
            fh.write(header_line(generation))
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException as exc:
        for temp in (vectors_temp, graph_temp, map_temp, journal_temp):
            if temp is not None:
                temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise file_error(writing, "write", exc) from None
        raise
    recover(files)
    files.drop_vectors_except(fmt)
    view.load(keep_unreported=True)  # the interactions now come from the new snapshot


def journal_is_large(view: JournalFollower) -> bool:
    """Whether the journal has lines and is over ``COMPACT_JOURNAL_BYTES`` or the snapshot."""
    files = view.files
    try:
        journal = os.stat(files.journal).st_size
        snapshot = os.stat(files.graph).st_size
        if view.rows.file_format is not None:
            snapshot += os.stat(files.vectors(view.rows.file_format)).st_size
    except OSError:
        return False
    has_lines = journal > len(header_line(view.generation))
    return has_lines and (journal > COMPACT_JOURNAL_BYTES or journal > snapshot)


def _complete(marker: Path) -> bool:
    if not marker.exists():
        return False
    try:
        fd = os.open(marker, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        read_header(marker, fd)
    except CorruptStoreError:
        return False
    finally:
        os.close(fd)
    return True


def recover(files: StoreFiles) -> None:
    """Finish a compaction a crash interrupted, or undo one that never got to renaming.

    Also the last step of every compaction. Call it holding the lock.
    """
    if _complete(files.temp(files.journal)):
        for target in files.renames():
            temp = files.temp(target)
            if temp.exists():
                os.replace(temp, target)
        fsync_dir(files.dir)
        files.drop_vectors_except(read_map(files.map).fmt)
    else:
        for target in files.renames():
            files.temp(target).unlink(missing_ok=True)
