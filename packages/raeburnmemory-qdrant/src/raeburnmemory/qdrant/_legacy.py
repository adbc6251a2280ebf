"""Folders written by earlier versions, which ran qdrant-client's pure-Python local mode.

Such a folder holds ``meta.json``, ``.lock`` and ``collection/<name>/storage.sqlite``. Its
collection is derived data like the shard that replaces it: the new shard is filled from the
store, the source of truth, by the reconciliation every open runs (or by ``reindex()``), so
nothing is lost, and the old collection is removed once the shard exists. A collection
raeburnmemory did not make is left alone, and so is a folder another process still holds
through an earlier version.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from raeburnmemory.core._locking import StoreLock
from raeburnmemory.core.errors import StoreLockedError
from raeburnmemory.qdrant._marker import MARKER
from raeburnmemory.qdrant.settings import QdrantSettings

_log = logging.getLogger("raeburnmemory.qdrant")

_META = "meta.json"


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _ours(config: object) -> bool:
    return isinstance(config, dict) and MARKER in (config.get("metadata") or {})


def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
    handle, temp = tempfile.mkstemp(prefix=".meta.", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(meta, out)
    os.replace(temp, folder / _META)


def retire(settings: QdrantSettings) -> bool:
    """Remove the store's old local-mode collection, if raeburnmemory made one; True if removed."""
    folder = settings.path
    if folder is None:
        return False
    meta = _read_meta(folder)
    collections = (meta or {}).get("collections")
    if not isinstance(collections, dict) or settings.collection not in collections:
        return False
    if not _ours(collections[settings.collection]):
        return False
    lock = StoreLock(folder / ".lock", 0.0)  # the lock qdrant-client's local mode holds
    try:
        lock.acquire()
    except (StoreLockedError, OSError):
        lock.close()
        _log.warning(
            "%s: the old local-mode collection %r is still in use by another process; it is "
            "left in place, and removed by a later open",
            folder,
            settings.collection,
        )
        return False
    try:
        meta = _read_meta(folder) or {}
        collections = meta.get("collections") or {}
        collections.pop(settings.collection, None)
        shutil.rmtree(folder / "collection" / settings.collection, ignore_errors=True)
        if collections or meta.get("aliases"):
            _write_meta(folder, meta)
        else:
            (folder / _META).unlink(missing_ok=True)
    finally:
        lock.release()
        lock.close()
    if not (folder / _META).exists():
        (folder / ".lock").unlink(missing_ok=True)
        with_contents = folder / "collection"
        if with_contents.is_dir() and not any(with_contents.iterdir()):
            with_contents.rmdir()
    _log.warning(
        "%s: the collection %r written by an earlier version (qdrant-client's local mode) was "
        "replaced by a Qdrant Edge shard, filled from the store",
        folder,
        settings.collection,
    )
    return True
