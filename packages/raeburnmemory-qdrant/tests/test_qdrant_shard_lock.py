"""A shard is opened by one process at a time, and a second process never breaks the first.

Qdrant Edge refuses a second open of a shard, but the attempt leaves the process that holds it
unable to flush. The first test shows that hazard with bare Qdrant Edge; the second shows that
raeburnmemory's lock keeps a second process away from the shard, so the holder goes on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qdrant_edge import EdgeShard, ScrollRequest

from raeburnmemory.qdrant import _pool
from raeburnmemory.qdrant.settings import resolve_settings

# Opens (or creates) a shard, adds points, then on each line from stdin adds more and flushes.
_HOLDER = """
import sys, uuid
from qdrant_edge import (
    Distance, EdgeConfig, EdgeShard, EdgeVectorParams, PayloadSchemaType, Point, UpdateOperation
)
mode, target = sys.argv[1], sys.argv[2]
if mode == "bare":
    shard = EdgeShard.create(target, EdgeConfig(vectors=EdgeVectorParams(8, Distance.Cosine)))
    shard.update(UpdateOperation.create_field_index("session_id", PayloadSchemaType.Keyword))
    def add(n):
        shard.update(UpdateOperation.upsert_points([
            Point(str(uuid.uuid4()), [float(i + 1)] * 8, {"session_id": "s"}) for i in range(n)
        ]))
    flush = shard.flush
else:
    from raeburnmemory.core.model import VectorPayload
    from raeburnmemory.core.store import StoredVectors
    from raeburnmemory.qdrant._edge import EdgeEngine
    from raeburnmemory.qdrant.settings import resolve_settings
    import numpy as np
    engine = EdgeEngine(resolve_settings(target, {}))
    engine.open(8, None)
    def add(n):
        ids = [str(uuid.uuid4()) for _ in range(n)]
        vectors = np.ones((n, 8), dtype=np.float32)
        engine.upsert(StoredVectors(ids, vectors, [VectorPayload("s", "a", 0.0)] * n))
    flush = engine.flush
add(10)
flush()
print("holding", flush=True)
sys.stdin.readline()
try:
    add(10)
    flush()
    print("flushed", flush=True)
except Exception as exc:
    print("flush failed:", exc, flush=True)
"""

# Opens the same shard: bare Qdrant Edge, or the way raeburnmemory opens one.
_SECOND = """
import sys
mode, target = sys.argv[1], sys.argv[2]
try:
    if mode == "bare":
        from qdrant_edge import EdgeShard
        EdgeShard.load(target)
    else:
        from raeburnmemory.qdrant._edge import EdgeEngine
        from raeburnmemory.qdrant.settings import resolve_settings
        EdgeEngine(resolve_settings(target, {})).open(8, None)
    print("opened")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def _run(mode: str, target: str) -> tuple[str, str]:
    """What the second process says, and what the holder says after its next flush."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, mode, target],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "holding"
        second = subprocess.run(
            [sys.executable, "-c", _SECOND, mode, target],
            capture_output=True,
            text=True,
            timeout=60,
        )
        holder.stdin.write("go\n")
        holder.stdin.flush()
        after = holder.stdout.readline().strip()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    return second.stdout.strip(), after


def test_bare_qdrant_edge_lets_a_failed_second_open_break_the_holder(tmp_path: Path) -> None:
    """The hazard the lock exists for (if Qdrant Edge ever fixes it, this test says so)."""
    target = str(tmp_path / "shard")
    second, after = _run("bare", target)
    assert second.startswith("Exception"), second
    assert "WouldBlock" in second
    assert after.startswith("flush failed"), after


def test_the_lock_keeps_a_second_process_away_and_the_holder_flushes(tmp_path: Path) -> None:
    store = str(tmp_path / "graph.json")
    second, after = _run("guarded", store)
    assert second.startswith("StoreLockedError"), second
    assert "run a Qdrant server" in second
    assert after == "flushed"
    # Every point the holder wrote is on disk, and the shard opens again.
    lease = _pool.acquire(resolve_settings(store, {}))
    try:
        shard = lease.shard.shard()
        assert isinstance(shard, EdgeShard)
        records, _ = shard.scroll(ScrollRequest(limit=100))
        assert len(records) == 20
    finally:
        lease.release()
