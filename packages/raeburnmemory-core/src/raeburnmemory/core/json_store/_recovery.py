"""Finishing a compaction a crash interrupted, or undoing one that never got to renaming.

A compaction writes its temporary files, the journal's last, then renames them over the old
ones (see ``_compaction``). A writer killed between the first rename and the last leaves a map,
a snapshot and a journal of two generations; one killed just before the first rename leaves an
old journal that finishing the renames will replace. Opening a store, and every process that
follows the store under its lock, finishes such a compaction before reading or writing a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from raeburnmemory.core._fsync import fsync_dir
from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_store._files import StoreFiles
from raeburnmemory.core.json_store._journal import read_header
from raeburnmemory.core.json_store._map_file import MapFile, read_map
from raeburnmemory.core.json_store._snapshot import refuse_other_version
from raeburnmemory.core.json_store._vector_file import read_vector_info, trim_vector_file

__all__ = ["finish_interrupted", "recover"]


def finish_interrupted(files: StoreFiles) -> None:
    """Under the lock, before following the store: finish (or undo) a compaction whose writer
    died after it began writing the temporary journal.

    Costs one ``stat`` when there is none. Without this, a process that had the store open
    would read a map and a snapshot of two generations, or append to a journal that the next
    open's recovery replaces (losing what it wrote).
    """
    journal_temp = files.temp(files.journal)
    if not journal_temp.exists():
        return
    refuse_other_version(files.temp(files.graph))  # never rename another version into place
    recover(files)


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


def recover(files: StoreFiles, *, written: MapFile | None = None) -> None:
    """Finish a compaction a crash interrupted, or undo one that never got to renaming.

    Also the last step of every compaction, which gives the map it ``written`` (so that it is
    not read back). Call it holding the lock.
    """
    if _complete(files.temp(files.journal)):
        for target in files.renames():
            temp = files.temp(target)
            if temp.exists():
                os.replace(temp, target)
        fsync_dir(files.dir)
        files.drop_vectors_except((written or read_map(files.map)).fmt)
    else:
        interrupted = False
        for target in files.renames():
            temp = files.temp(target)
            interrupted = interrupted or temp.exists()
            temp.unlink(missing_ok=True)
        if interrupted:
            _trim_vectors(files)


def _trim_vectors(files: StoreFiles) -> None:
    """Cut off the rows an interrupted compaction appended to the vectors file, if any.

    Readers ignore such rows anyway (the map lists how many are the store's); a file that cannot
    be read or written here is left for opening to report.
    """
    try:
        mapping = read_map(files.map)
        if mapping.fmt is None or mapping.vectors_rows_crc is None:
            return
        path = files.vectors(mapping.fmt)
        trim_vector_file(read_vector_info(path, mapping.fmt, len(mapping.ids)), mapping.fmt)
    except (CorruptStoreError, OSError):
        return
