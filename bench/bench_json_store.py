"""Benchmark of the JSON store alone (no encoder, no vector index).

Run ``python bench/bench_json_store.py [--n 100000] [--dim 384] [--singles 2000]``. With random
normalized vectors it measures, in one run:

* single adds per second (one interaction and its vector per call, each durable) on a store
  holding 1,000 interactions and on one holding ``--n``, and their ratio;
* batch adds per second (chunks of 2,048) while filling the store to ``--n`` (store time only:
  making the sample interactions and vectors is not counted);
* reopening the ``--n`` store and loading every vector (what a MemoryGraph does before its first
  query), in wall and CPU seconds, the time of a compaction (which forces ~240 MB to disk), and
  of the next one after adding 1% more (which appends to the vectors file);
* peak resident memory of the reopening process (measured in a fresh subprocess).

Results go to ``bench/results/json_store.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.model import EncoderInfo, Interaction

RESULTS = Path(__file__).parent / "results"
CHUNK = 2048
_T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _items(start: int, count: int) -> list[Interaction]:
    return [
        Interaction(
            prompt_id=f"p{i}",
            prompt_text=f"How do I configure widget {i} for the production cluster?",
            response_id=f"r{i}",
            response_text=f"Edit the settings of widget {i}, then restart the service.",
            agent_id=f"agent-{i % 7}",
            agent_name=f"Agent {i % 7}",
            session_id=f"s{i // 25}",
            timestamp=_T0 + timedelta(seconds=i),
            metadata={"n": i},
        )
        for i in range(start, start + count)
    ]


def _vectors(count: int, dim: int, seed: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((count, dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def _fill(store: JsonStore, start: int, count: int, dim: int) -> tuple[float, float]:
    """Batch-add ``count`` interactions; interactions per second of store time (wall, CPU)."""
    wall = cpu = 0.0
    for offset in range(start, start + count, CHUNK):
        size = min(CHUNK, start + count - offset)
        items, vectors = _items(offset, size), _vectors(size, dim, offset)
        began, began_cpu = time.perf_counter(), time.process_time()
        store.add(items, vectors)
        wall += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    return count / wall, count / cpu


def _singles(store: JsonStore, start: int, count: int, dim: int) -> tuple[float, float]:
    """Add ``count`` interactions one call each; adds per second (wall, CPU)."""
    items = _items(start, count)
    vectors = _vectors(count, dim, start)
    began, began_cpu = time.perf_counter(), time.process_time()
    for i, item in enumerate(items):
        store.add([item], vectors[i : i + 1])
    return count / (time.perf_counter() - began), count / (time.process_time() - began_cpu)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``: not inherited from the parent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reopen(path: Path) -> dict[str, float]:
    began, began_cpu = time.perf_counter(), time.process_time()
    store = JsonStore.open(str(path), create=False)
    opened = time.perf_counter()
    stored = store.load_vectors()
    loaded, loaded_cpu = time.perf_counter(), time.process_time()
    assert len(stored) == store.count()
    store.close()
    return {
        "open_s": opened - began,
        "open_and_load_vectors_s": loaded - began,
        "open_and_load_vectors_cpu_s": loaded_cpu - began_cpu,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run(n: int, dim: int, singles: int) -> dict[str, Any]:
    """Every figure, measured in one run."""
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small" / "graph.json"
        big = Path(tmp) / "big" / "graph.json"
        info = EncoderInfo("bench", dim)
        with JsonStore.open(str(small)) as store_small, JsonStore.open(str(big)) as store_big:
            for store in (store_small, store_big):
                store.set_encoder_info(info)
            _fill(store_small, 0, 1000, dim)
            batch_rate, batch_cpu_rate = _fill(store_big, 0, n, dim)
            # alternate so that both sizes see the same machine
            rates: dict[str, list[tuple[float, float]]] = {"small": [], "big": []}
            for round_ in range(4):
                base = 10_000_000 + round_ * singles
                rates["small"].append(_singles(store_small, base, singles // 4, dim))
                rates["big"].append(_singles(store_big, base, singles // 4, dim))
        with JsonStore.open(str(big)) as store:
            began, began_cpu = time.perf_counter(), time.process_time()
            store.compact()
            compact_s = time.perf_counter() - began
            compact_cpu_s = time.process_time() - began_cpu
            # what a compaction costs when 1% was added since the last one
            _fill(store, 20_000_000, max(1, n // 100), dim)
            began, began_cpu = time.perf_counter(), time.process_time()
            store.compact()
            compact_1pct_s = time.perf_counter() - began
            compact_1pct_cpu_s = time.process_time() - began_cpu
        probe = subprocess.run(
            [sys.executable, __file__, "--reopen", str(big)],
            capture_output=True,
            text=True,
            check=True,
        )
        reopen = json.loads(probe.stdout)
        size_mb = sum(p.stat().st_size for p in big.parent.iterdir()) / 1e6
    single_small = float(np.median([wall for wall, _ in rates["small"]]))
    single_big = float(np.median([wall for wall, _ in rates["big"]]))
    cpu_small = float(np.median([cpu for _, cpu in rates["small"]]))
    cpu_big = float(np.median([cpu for _, cpu in rates["big"]]))
    return {
        "n": n,
        "dim": dim,
        "single_adds_per_s_at_1k": single_small,
        f"single_adds_per_s_at_{n}": single_big,
        "single_ratio_big_to_small": single_big / single_small,
        "single_adds_per_cpu_s_at_1k": cpu_small,
        f"single_adds_per_cpu_s_at_{n}": cpu_big,
        "single_cpu_ratio_big_to_small": cpu_big / cpu_small,
        "batch_adds_per_s": batch_rate,
        "batch_adds_per_cpu_s": batch_cpu_rate,
        "compact_s": compact_s,
        "compact_cpu_s": compact_cpu_s,
        "compact_after_adding_1pct_s": compact_1pct_s,
        "compact_after_adding_1pct_cpu_s": compact_1pct_cpu_s,
        "store_mb": size_mb,
        **reopen,
    }


def _table(result: dict[str, Any]) -> str:
    lines = [f"{'figure':<36} {'value':>12}", "-" * 49]
    for key, value in result.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        lines.append(f"{key:<36} {shown:>12}")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--reopen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reopen:
        print(json.dumps(_reopen(Path(args.reopen))))
        return
    result = run(args.n, args.dim, args.singles)
    print(_table(result))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "json_store.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
