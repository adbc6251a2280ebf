"""Folding the journal into a new snapshot, and finishing a compaction a crash interrupted.

A compaction writes every new file beside the old one with a ``.tmp`` suffix (vectors file,
snapshot, map, then the journal last) and renames them over the old ones in the order
:meth:`StoreFiles.renames` gives. A complete temporary journal therefore means every temporary
file was complete before the first rename: :func:`recover` (in ``_recovery``) finishes the
renames, otherwise it removes the temporary files. Every function here runs under the store's
lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from raeburnmemory.core import checks
from raeburnmemory.core._fsync import BackgroundFlushes
from raeburnmemory.core._os_errors import file_error
from raeburnmemory.core.json_store import _vector_file
from raeburnmemory.core.json_store._follower import JournalFollower
from raeburnmemory.core.json_store._journal import header_line
from raeburnmemory.core.json_store._map_file import MapFile, write_map
from raeburnmemory.core.json_store._recovery import recover
from raeburnmemory.core.json_store._snapshot import FORMAT, VERSION, write_snapshot
from raeburnmemory.core.json_store._vector_file import VectorFileWriter
from raeburnmemory.core.json_store._vector_rows import IN_VECTORS_FILE, VectorRows
from raeburnmemory.core.json_store._vector_tail import VectorTail, adopt_tail
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


def compact(view: JournalFollower, tail: VectorTail | None = None) -> None:
    """Fold the journal into the next snapshot, vectors file and map, then load them.

    When ``tail`` (the rows large batches of this process wrote past the listed ones) holds
    exactly the journal's vectors, the map lists them as they are. Otherwise, when every row of
    the vectors file is still live (nothing deleted or replaced since the last compaction) and
    in the format this machine writes, the journal's vectors are appended to it in place; else
    a new vectors file is written. Either way the vectors are read and written a few thousand
    at a time.
    """
    rows = view.rows
    fmt = _vector_file.preferred_format() if len(rows) else None
    adopted = None if tail is None or fmt is None else adopt_tail(view, tail, fmt)
    if adopted is not None:
        _compact_listing(view, adopted)
        return
    if fmt is not None and _appendable(rows, fmt):
        _compact_appending(view, fmt)
        return
    temp: Path | None = None
    vectors: _Vectors | None = None
    if fmt is not None:
        temp = view.files.temp(view.files.vectors(fmt))
        try:
            vectors = _write_new_vectors(view, temp, fmt)
        except OSError as exc:
            raise file_error(temp, "write", exc) from None
    commit_snapshot(view, vectors, temp)


_Vectors = tuple[list[str], str | None, int | None]


def _appendable(rows: VectorRows, fmt: str) -> bool:
    """Whether the vectors file can take the journal's vectors as they are: same format, a map
    that records its rows' CRC-32, and every row still live."""
    if rows.file_format != fmt or rows.rows_crc is None or not rows.file_ids:
        return False
    in_file = sum(1 for place in rows.locations.values() if place[0] == IN_VECTORS_FILE)
    return in_file == len(rows.file_ids)


def _write_new_vectors(view: JournalFollower, temp: Path, fmt: str) -> _Vectors:
    """Write every live vector to a new file at ``temp``: the old file's rows, then the
    journal's."""
    rows = view.rows
    writer = VectorFileWriter(temp, fmt, int(rows.dim or 0))
    try:
        ids = [pid for pid, place in rows.locations.items() if place[0] == IN_VECTORS_FILE]
        for block in rows.file_blocks():
            writer.append(block)
        for block_ids, block in rows.journal_blocks(view.journal):
            writer.append(block)
            ids += block_ids
        return ids, fmt, writer.finish()
    except BaseException:
        writer.discard()
        raise


def _compact_appending(view: JournalFollower, fmt: str) -> None:
    """Append the journal's vectors to the vectors file, then commit the next generation.

    The rows are appended after the snapshot's temporary file exists, so a crash leaves a
    temporary file and :func:`recover` cuts the vectors file back to the rows the map lists.
    """
    rows = view.rows
    info = rows.file_info()
    assert rows.rows_crc is not None
    try:
        writer = VectorFileWriter.extend(info, fmt, rows.rows_crc)
    except OSError as exc:
        raise file_error(info.path, "write", exc) from None

    def append() -> _Vectors:
        ids = list(rows.file_ids)
        for block_ids, block in rows.journal_blocks(view.journal):
            writer.append(block)
            ids += block_ids
        return ids, fmt, writer.finish(sync=False)

    commit_snapshot(view, append, None, undo=writer.discard)


def _compact_listing(view: JournalFollower, writer: VectorFileWriter) -> None:
    """Commit the next generation, listing the rows batches already wrote to the vectors file.

    Their header is written after the snapshot's temporary file exists, so a crash leaves a
    temporary file and :func:`recover` cuts the vectors file back to the rows the map lists.
    """
    rows = view.rows
    fmt = writer.fmt

    def listed() -> _Vectors:
        ids = list(rows.file_ids)
        ids += [pid for pid, place in rows.locations.items() if place[0] != IN_VECTORS_FILE]
        return ids, fmt, writer.finish(sync=False)

    commit_snapshot(view, listed, None, undo=writer.discard, fmt=fmt)


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
    vectors: _Vectors | Callable[[], _Vectors] | None,
    vectors_temp: Path | None,
    *,
    undo: Callable[[], None] | None = None,
    fmt: str | None = None,
) -> None:
    """Write snapshot, map and journal of the next generation, rename them into place, load them.

    ``vectors`` is the (ids, format, CRC-32 of the rows) of the finished vectors file at
    ``vectors_temp``, or a function that appends them to the store's own vectors file (of
    format ``fmt``, by default the one the map names) once the snapshot is written (``undo``
    then takes them back if the compaction fails before its renames); that function leaves
    the file's flush to disk to this one.

    The snapshot, the vectors file and the map are forced to disk by threads while the next
    is written (the vectors file from the start, as a batch's rows may wait there), all of
    them before the journal, the last file, is written.
    """
    files = view.files
    encoder_info = view.encoder
    generation = view.generation + 1
    if callable(vectors):
        fmt = fmt or view.rows.file_format
    else:
        fmt = vectors[1] if vectors is not None else None
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
    flushes = BackgroundFlushes()
    if callable(vectors) and fmt is not None:
        # rows a batch wrote there wait for the disk while the snapshot is laid out
        flushes.start(files.vectors(fmt))
    try:
        crc, size, index = write_snapshot(graph_temp, view.state, attrs, sync=False)
        flushes.start(graph_temp)
        if callable(vectors):
            writing = files.vectors(fmt or "")
            vectors = vectors()
            flushes.start(writing)
        ids, fmt, vectors_crc = vectors if vectors is not None else ([], None, None)
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
            vectors_rows_crc=vectors_crc if fmt is not None else None,
        )
        write_map(map_temp, content, sync=False)
        flushes.start(map_temp)
        failed = flushes.wait()
        if failed is not None:
            writing = failed[0]
            raise failed[1]
        writing = journal_temp
        with journal_temp.open("wb") as fh:  # written last: all temporary files are ready
            fh.write(header_line(generation))
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException as exc:
        flushes.wait()
        for temp in (vectors_temp, graph_temp, map_temp, journal_temp):
            if temp is not None:
                temp.unlink(missing_ok=True)
        if undo is not None:
            undo()
        if isinstance(exc, OSError):
            raise file_error(writing, "write", exc) from None
        raise
    recover(files, written=content)
    files.drop_vectors_except(fmt)
    view.load(
        keep_unreported=True, mapping=content
    )  # the interactions now come from the new snapshot


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
