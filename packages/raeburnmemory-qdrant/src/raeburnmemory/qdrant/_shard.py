"""One process's hold on an embedded Qdrant Edge shard: the project's lock, then the shard.

A shard may be open in one process at a time, and Qdrant Edge does not defend a shard against a
second process: a second open fails, but leaves the process that holds the shard unable to
flush it. So the shard is never opened (nor probed by opening it) without first taking
raeburnmemory's own lock, a lock file beside the shard; a second process gets
``StoreLockedError`` from that lock at once and never touches the shard.

Layout, in the folder beside the store (``graph.json.qdrant/``): ``shards/<collection>/`` is the
shard, ``shards/<collection>.lock`` its lock and ``shards/<collection>.json`` raeburnmemory's
marker (the encoder of its vectors, and, beside it under ``in_step``, the fingerprint of the
store's vectors when the shard was closed holding exactly those, with under ``store_version``
the store's version token then; the first write after an open removes both before touching
the shard).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

from qdrant_edge import EdgeShard

from raeburnmemory.core._locking import StoreLock
from raeburnmemory.core.errors import ConfigurationError, StoreLockedError, StoreUnavailableError
from raeburnmemory.qdrant._in_step import Claim
from raeburnmemory.qdrant.settings import QdrantSettings

#: The file Qdrant Edge writes into every shard it creates.
_EDGE_CONFIG = "edge_config.json"
#: The marker's key for the fingerprint of what the shard held when it was closed.
IN_STEP = "in_step"
#: The marker's key for the store's version token when the shard last matched it.
STORE_VERSION = "store_version"


def folder_in_use(settings: QdrantSettings) -> StoreLockedError:
    """The error a second process gets for a shard another one holds."""
    error = StoreLockedError(settings.where, 0)
    error.args = (
        f"{settings.where}: this Qdrant local folder is in use by another process. Local mode "
        "allows one process per folder; to share the vectors between several processes, run a "
        "Qdrant server (docker run -p 6333:6333 qdrant/qdrant) and pass qdrant_url= (or set "
        "RAEBURN_QDRANT_URL)",
    )
    return error


class ShardHandle:
    """The lock on a shard, and the shard once it exists (opened on first need)."""

    def __init__(self, settings: QdrantSettings) -> None:
        if settings.path is None:
            raise ConfigurationError("an embedded Qdrant shard needs a local folder")
        self.settings = settings
        base = settings.path / "shards"
        self.path = base / settings.collection
        self.marker_path = base / f"{settings.collection}.json"
        self._lock = StoreLock(base / f"{settings.collection}.lock", 0.0)
        self._locked = False
        self._shard: EdgeShard | None = None
        #: Writes taken since the handle was made (several indexes of a process may share it).
        self.writes = 0
        self._claimed: bool | None = None  # whether the marker holds IN_STEP (None: not read)
        self.take()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` let the shard go (``take`` holds it again)."""
        return not self._locked

    def take(self) -> None:
        """Take the lock; ``StoreLockedError`` when another process holds the shard."""
        if self._locked:
            return
        try:
            self._lock.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except StoreLockedError:
            self._lock.close()
            raise folder_in_use(self.settings) from None
        except OSError as exc:
            where = self.settings.where
            raise StoreUnavailableError(f"{where}: cannot open Qdrant: {exc}") from exc
        self._locked = True
        self._claimed = None  # another process may have held the shard meanwhile

    def exists(self) -> bool:
        """Whether the shard has been created."""
        return (self.path / _EDGE_CONFIG).is_file()

    def shard(self) -> EdgeShard | None:
        """The open shard, loading it first if needed; ``None`` when it does not exist."""
        if not self._locked:
            raise StoreUnavailableError(f"{self.settings.where}: the Qdrant shard is closed")
        if self._shard is None and self.exists():
            self._shard = EdgeShard.load(str(self.path))
        return self._shard

    def create(self, config: Any) -> EdgeShard:
        """Create the shard empty (an old one, or a half-made one, is removed first)."""
        self.drop()
        self._shard = EdgeShard.create(str(self.path), config)
        return self._shard

    def drop(self) -> None:
        """Close and delete the shard (and its marker)."""
        self._close_shard()
        shutil.rmtree(self.path, ignore_errors=True)
        self.marker_path.unlink(missing_ok=True)
        self._claimed = False

    def vector_params(self) -> dict[str, Any]:
        """The shard's unnamed vector's size and distance, as its config file records them."""
        config = json.loads((self.path / _EDGE_CONFIG).read_text(encoding="utf-8"))
        vectors = config.get("vectors") or {}
        params = vectors.get("")
        return params if isinstance(params, dict) and len(vectors) == 1 else {}

    def read_marker(self) -> dict[str, Any] | None:
        """raeburnmemory's marker of the shard, or ``None`` for a shard it did not make."""
        try:
            value = json.loads(self.marker_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def write_marker(self, value: dict[str, Any]) -> None:
        """Replace the marker (written to a temporary file, then renamed)."""
        handle, temp = tempfile.mkstemp(prefix=".marker.", dir=self.marker_path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(value, out)
        os.replace(temp, self.marker_path)
        self._claimed = IN_STEP in value

    def claim(self) -> Claim | None:
        """What the marker records the shard was closed in step with, if anything."""
        mark = self.read_marker() or {}
        value, version = mark.get(IN_STEP), mark.get(STORE_VERSION)
        self._claimed = isinstance(value, str)
        if not isinstance(value, str):
            return None
        return Claim(value, version if isinstance(version, str) else None)

    def set_claim(self, claim: Claim) -> None:
        """Flush the shard, then record that it holds exactly the rows of ``claim``."""
        shard = self.shard()
        mark = self.read_marker()
        if shard is None or mark is None:
            return
        if (mark.get(IN_STEP), mark.get(STORE_VERSION)) == (claim.fingerprint, claim.store_version):
            return
        shard.flush()
        mark[IN_STEP] = claim.fingerprint
        mark.pop(STORE_VERSION, None)
        if claim.store_version is not None:
            mark[STORE_VERSION] = claim.store_version
        self.write_marker(mark)
        self._claimed = True

    def wrote(self) -> None:
        """Call before each write: the marker's claim goes first, then the write is counted."""
        if self._claimed is not False:
            mark = self.read_marker()
            if mark is not None and (IN_STEP in mark or STORE_VERSION in mark):
                mark.pop(IN_STEP, None)
                mark.pop(STORE_VERSION, None)
                self.write_marker(mark)
            self._claimed = False
        self.writes += 1

    def _close_shard(self) -> None:
        shard, self._shard = self._shard, None
        if shard is not None:
            shard.close()

    def close(self) -> None:
        """Close the shard (flushing it) and release the lock."""
        try:
            self._close_shard()
        finally:
            if self._locked:
                self._locked = False
                self._lock.release()
                self._lock.close()

    def forget(self) -> None:
        """In a forked child: let go of the parent's shard and lock without touching them.

        The shard object is kept alive, never closed or dropped: closing it here would write
        to files the parent still uses.
        """
        if self._shard is not None:
            _ABANDONED.append(self._shard)
        self._shard = None
        self._locked = False
        self._lock.close()


#: Shards inherited through fork, kept so the child never closes the parent's files.
_ABANDONED: list[EdgeShard] = []
