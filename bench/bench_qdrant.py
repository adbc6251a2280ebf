"""Benchmarks of raeburnmemory-qdrant: Qdrant vectors beside the default FAISS index.

Run ``python bench/bench_qdrant.py [--n 100000] [--qdrant-url URL] [--storage json|sqlite]``.
JSON store with the offline encoder in a child process (so its peak RSS is its own), then a
fresh process reopens it and answers a first query. Qdrant runs in embedded local mode, and also
on a server when ``--qdrant-url`` (or ``$RAEBURN_QDRANT_URL``) names one. Figures are compared
only within this run. Results go to ``bench/results/qdrant.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_core import items, texts

RESULTS = Path(__file__).parent / "results"
QUERIES = 30
FILTERED_QUERIES = 10
UPSERT_CHUNK = 4096
# The bare upsert is measured on at most this many of the stored vectors (local mode is slow).
BARE_UPSERT_MAX = 20_000
# Points written with Qdrant's own local-mode settings (an fsync per point), for the ratio.
UNTUNED_POINTS = 300


def _p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed_queries(graph: Any, queries: list[str], **filters: Any) -> float:
    samples = []
    for text in queries:
        began = time.perf_counter()
        graph.get_similar_prompts(text, 10, **filters)
        samples.append(time.perf_counter() - began)
    return _p50_ms(samples)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _graph_kwargs(path: str, backend: str, url: str | None) -> dict[str, Any]:
    storage = "sqlite" if path.endswith(".db") else "json"
    kwargs: dict[str, Any] = {
        "db_path": path,
        "storage_backend": storage,
        "embedding_model": None,
        "vector_backend": backend,
    }
    if url:
        kwargs["qdrant_url"] = url
    return kwargs


def build(path: str, backend: str, n: int, url: str | None) -> dict[str, Any]:
    """Child: fill a store with ``n`` interactions, time writes and searches."""
    from raeburnmemory.memory_graph import MemoryGraph

    queries = texts(QUERIES, seed=99)
    out: dict[str, Any] = {}
    with MemoryGraph(**_graph_kwargs(path, backend, url)) as graph:
        batch = items(texts(n))
        began = time.perf_counter()
        graph.batch_add(batch)
        out["batch_add_per_s"] = n / (time.perf_counter() - began)
        out["search_p50_ms"] = _timed_queries(graph, queries)
        out["filtered_search_p50_ms"] = _timed_queries(
            graph, queries[:FILTERED_QUERIES], session_id="session-7"
        )
        if backend == "qdrant":
            out["bare_upsert_per_s"] = _bare_upsert_rate(graph.store, url)
            if not url:
                out["untuned_local_upsert_per_s"] = _untuned_upsert_rate(graph.store)
        graph.export()
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _bare_upsert_rate(store: Any, url: str | None) -> float:
    """Points per second upserted by the index alone, with the store's vectors, in big batches."""
    from raeburnmemory.qdrant import QdrantVectors

    stored = store.load_vectors()
    count = min(len(stored), BARE_UPSERT_MAX)
    options: dict[str, Any] = {"collection": "bench_bare_upsert"}
    if url:
        options["qdrant_url"] = url
    index = QdrantVectors.create(dim=stored.vectors.shape[1], store=store, options=options)
    try:
        index.clear()
        began = time.perf_counter()
        for start in range(0, count, UPSERT_CHUNK):
            end = min(start + UPSERT_CHUNK, count)
            index.add(stored.ids[start:end], stored.vectors[start:end], stored.payloads[start:end])
        rate = count / (time.perf_counter() - began)
        index.clear()  # an empty collection costs nothing when the folder is opened again
    finally:
        index.close()
    return rate


def _untuned_upsert_rate(store: Any) -> float:
    """Points per second of a bare local-mode client left with its own SQLite settings."""
    from qdrant_client import QdrantClient, models

    from raeburnmemory.qdrant._points import batches

    stored = store.load_vectors()
    count = min(len(stored), UNTUNED_POINTS)
    with tempfile.TemporaryDirectory() as folder:
        client = QdrantClient(path=folder)
        client.create_collection(
            "untuned",
            vectors_config=models.VectorParams(
                size=stored.vectors.shape[1], distance=models.Distance.COSINE
            ),
        )
        began = time.perf_counter()
        for batch in batches(stored.ids[:count], stored.vectors[:count], stored.payloads, count):
            client.upsert("untuned", points=batch, wait=True)
        rate = count / (time.perf_counter() - began)
        client.close()
    return rate


def reopen(path: str, backend: str, url: str | None) -> dict[str, Any]:
    """Child: open the store in a fresh process and answer a first query, then more."""
    began = time.perf_counter()
    from raeburnmemory.memory_graph import MemoryGraph

    queries = texts(QUERIES, seed=7)
    with MemoryGraph(**_graph_kwargs(path, backend, url)) as graph:
        graph.get_similar_prompts(queries[0], 10)
        out: dict[str, Any] = {"reopen_first_query_s": time.perf_counter() - began}
        out["search_p50_after_reopen_ms"] = _timed_queries(graph, queries)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _child(phase: str, path: Path, backend: str, n: int, url: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", phase, str(path), backend, str(n), url or ""]
    env = dict(os.environ)
    env.pop("RAEBURN_QDRANT_URL", None)  # local mode unless this run names a server
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{backend} {phase} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(n: int, url: str | None, storage: str) -> dict[str, Any]:
    """Every figure, for each backend, at ``n`` interactions."""
    setups: list[tuple[str, str, str | None]] = [
        ("faiss", "faiss", None),
        ("qdrant local", "qdrant", None),
    ]
    if url:
        setups.append(("qdrant server", "qdrant", url))
    results: dict[str, Any] = {"n": n, "storage": storage, "backends": {}}
    suffix = ".db" if storage == "sqlite" else ".json"
    with tempfile.TemporaryDirectory() as tmp:
        for label, backend, target in setups:
            path = Path(tmp) / f"{label.replace(' ', '-')}{suffix}"
            began = time.perf_counter()
            built = _child("build", path, backend, n, target)
            reopened = _child("reopen", path, backend, n, target)
            results["backends"][label] = {
                **built,
                "build_peak_rss_mb": built.pop("peak_rss_mb"),
                **reopened,
                "reopen_peak_rss_mb": reopened.pop("peak_rss_mb"),
                "total_s": time.perf_counter() - began,
            }
            print(f"{label}: done in {time.perf_counter() - began:.0f} s", flush=True)
    return results


ROWS = (
    ("batch_add interactions/s", "batch_add_per_s"),
    ("bare upsert points/s (4,096 a call)", "bare_upsert_per_s"),
    ("same, Qdrant's own local settings", "untuned_local_upsert_per_s"),
    ("search p50 ms (top 10)", "search_p50_ms"),
    ("search p50 ms, one session", "filtered_search_p50_ms"),
    ("reopen + first query s", "reopen_first_query_s"),
    ("search p50 ms after reopen", "search_p50_after_reopen_ms"),
    ("peak RSS MB, building", "build_peak_rss_mb"),
    ("peak RSS MB, reopening", "reopen_peak_rss_mb"),
)


def report(results: dict[str, Any]) -> str:
    """A readable table: one column per backend."""
    labels = list(results["backends"])
    width = max(len(name) for name, _ in ROWS)
    title = f"{results['storage']} store, {results['n']:,} interactions"
    lines = [f"{title:<{width}}"]
    lines[0] += "".join(f"  {label:>14}" for label in labels)
    for name, key in ROWS:
        cells = []
        for label in labels:
            value = results["backends"][label].get(key)
            cells.append(f"  {'-':>14}" if value is None else f"  {value:>14,.1f}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run, print and save (or run one child phase)."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        phase, path, backend, n, url = sys.argv[2:7]
        target = url or None
        if phase == "build":
            result = build(path, backend, int(n), target)
        else:
            result = reopen(path, backend, target)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="interactions to store")
    parser.add_argument(
        "--qdrant-url",
        default=os.environ.get("RAEBURN_QDRANT_URL") or None,
        help="also measure a Qdrant server (default: $RAEBURN_QDRANT_URL)",
    )
    parser.add_argument(
        "--storage", choices=("json", "sqlite"), default="json", help="the store (default: json)"
    )
    args = parser.parse_args()
    results = run(args.n, args.qdrant_url, args.storage)
    print(report(results))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "qdrant.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
