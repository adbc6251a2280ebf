"""Benchmarks of raeburnmemory-qdrant: Qdrant vectors beside the default FAISS index.

Run ``python bench/bench_qdrant.py [--n 100000] [--qdrant-url URL] [--storage json|sqlite]``.
JSON store with the offline encoder in a child process (so its peak RSS is its own), then a
fresh process reopens it and answers a first query. Qdrant runs embedded (Qdrant Edge), and
also on a server when ``--qdrant-url`` (or ``$RAEBURN_QDRANT_URL``) names one; FAISS (exact)
runs in the same run. Searches are timed twice: ``MemoryGraph.get_similar_prompts`` (encoding
the query and reading the store included) and the vector index alone on encoded queries, before
and after ``export()`` (which builds the embedded shard's HNSW index). Recall@10 compares the
index's answers with an exact scan of the store's vectors; prompts tied with the tenth exact
score count as found. Figures are compared only within this run. Results go to
``bench/results/qdrant.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from bench_core import items, texts

RESULTS = Path(__file__).parent / "results"
QUERIES = 50
FILTERED_QUERIES = 20
TIE = 1e-5


def _p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed_queries(graph: Any, queries: list[str], **filters: Any) -> float:
    samples = []
    for text in queries:
        began = time.perf_counter()
        graph.get_similar_prompts(text, 10, **filters)
        samples.append(time.perf_counter() - began)
    return _p50_ms(samples)


def _index_queries(index: Any, vectors: Any, flt: Any = None) -> tuple[float, list[Any]]:
    """p50 of the index alone, and its answers."""
    samples, answers = [], []
    for vector in vectors:
        began = time.perf_counter()
        answers.append(index.search(vector, 10, flt))
        samples.append(time.perf_counter() - began)
    return _p50_ms(samples), answers


def _recall(answers: list[Any], exact_scores: Any) -> float:
    """Share of the exact top 10 found, counting prompts tied with the tenth exact score."""
    found = [
        sum(1 for _, score in answer if score >= scores[-1] - TIE) / len(scores)
        for answer, scores in zip(answers, exact_scores, strict=True)
    ]
    return float(np.mean(found))


def _peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``: not inherited from the parent)."""
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    return peak / 1024


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


def _search_figures(graph: Any, queries: list[str], when: str) -> dict[str, Any]:
    from raeburnmemory.core.model import SearchFilter

    index = graph._keeper.index  # the benchmark times the index alone too
    vectors = graph._encode(queries)
    stored = graph.store.load_vectors()
    exact = np.sort(stored.vectors @ vectors.T, axis=0)[::-1][:10].T
    out: dict[str, Any] = {f"search_p50_ms_{when}": _timed_queries(graph, queries)}
    out[f"index_p50_ms_{when}"], answers = _index_queries(index, vectors)
    out[f"recall_at_10_{when}"] = _recall(answers, exact)
    out[f"filtered_search_p50_ms_{when}"] = _timed_queries(
        graph, queries[:FILTERED_QUERIES], session_id="session-7"
    )
    out[f"filtered_index_p50_ms_{when}"], _ = _index_queries(
        index, vectors[:FILTERED_QUERIES], SearchFilter(session_id="session-7")
    )
    return out


def build(path: str, backend: str, n: int, url: str | None) -> dict[str, Any]:
    """Child: fill a store with ``n`` interactions, time writes, searches and the index build."""
    from raeburnmemory.memory_graph import MemoryGraph

    queries = texts(QUERIES, seed=99)
    out: dict[str, Any] = {}
    with MemoryGraph(**_graph_kwargs(path, backend, url)) as graph:
        batch = items(texts(n))
        began, cpu = time.perf_counter(), time.process_time()
        graph.batch_add(batch)
        out["batch_add_per_s"] = n / (time.perf_counter() - began)
        out["batch_add_cpu_s"] = time.process_time() - cpu
        out.update(_search_figures(graph, queries, "before"))
        began = time.perf_counter()
        graph.export()
        out["export_s"] = time.perf_counter() - began
        out.update(_search_figures(graph, queries, "after"))
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def reopen(path: str, backend: str, url: str | None) -> dict[str, Any]:
    """Child: open the store in a fresh process and answer a first query, then more."""
    began, cpu = time.perf_counter(), time.process_time()
    from raeburnmemory.memory_graph import MemoryGraph

    out: dict[str, Any] = {}
    queries = texts(QUERIES, seed=7)
    with MemoryGraph(**_graph_kwargs(path, backend, url)) as graph:
        asked = time.perf_counter()
        graph.get_similar_prompts(queries[0], 10)
        out["first_query_s"] = time.perf_counter() - asked
        out["reopen_first_query_s"] = time.perf_counter() - began
        out["reopen_first_query_cpu_s"] = time.process_time() - cpu
        out["search_p50_after_reopen_ms"] = _timed_queries(graph, queries)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _timed(out: dict[str, Any], name: str, call: Any, *args: Any) -> Any:
    """``call(*args)``, its wall and CPU seconds put in ``out`` as ``name_s`` and ``name_cpu_s``."""
    began, cpu = time.perf_counter(), time.process_time()
    result = call(*args)
    out[f"{name}_s"] = time.perf_counter() - began
    out[f"{name}_cpu_s"] = time.process_time() - cpu
    return result


def reopen_parts(path: str, backend: str, url: str | None) -> dict[str, Any]:
    """Child: the steps of a reopen one by one, in a fresh process (embedded Qdrant only).

    The store's opening is common to every backend; the Qdrant index's own part is opening the
    shard (its lock, marker and files), checking it is in step with the store (fingerprinting
    the store's vectors, reading them included) and a first search.
    """
    from raeburnmemory.core.encoders import resolve_encoder
    from raeburnmemory.core.memory._encoding import encode
    from raeburnmemory.core.registry import load_storage_backend, load_vector_backend

    out: dict[str, Any] = {}
    if backend != "qdrant" or url:
        return out
    storage = "sqlite" if path.endswith(".db") else "json"
    store = _timed(out, "store_open", load_storage_backend(storage).open, path)
    try:
        info = store.encoder_info()
        query = encode(resolve_encoder(info.name), texts(1, seed=7))[0]
        index_cls = load_vector_backend("qdrant")
        index = _timed(
            out,
            "qdrant_shard_open",
            partial(index_cls.create, dim=info.dim, store=store, options={}),
        )
        _timed(out, "qdrant_in_step_check", index.reconcile, store)
        _timed(out, "qdrant_first_search", index.search, query, 10)
        index.close()
    finally:
        store.close()
    return out


def _child(phase: str, path: Path, backend: str, n: int, url: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", phase, str(path), backend, str(n), url or ""]
    env = dict(os.environ)
    env.pop("RAEBURN_QDRANT_URL", None)  # embedded unless this run names a server
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{backend} {phase} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(n: int, url: str | None, storage: str) -> dict[str, Any]:
    """Every figure, for each backend, at ``n`` interactions."""
    setups: list[tuple[str, str, str | None]] = [
        ("faiss", "faiss", None),
        ("qdrant edge", "qdrant", None),
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
            parts = _child("reopen-parts", path, backend, n, target)
            build_rss, reopen_rss = built.pop("peak_rss_mb"), reopened.pop("peak_rss_mb")
            results["backends"][label] = {
                **built,
                "build_peak_rss_mb": build_rss,
                **reopened,
                "reopen_peak_rss_mb": reopen_rss,
                **parts,
                "total_s": time.perf_counter() - began,
            }
            print(f"{label}: done in {time.perf_counter() - began:.0f} s", flush=True)
    return results


ROWS = (
    ("batch_add interactions/s", "batch_add_per_s", 1),
    ("  CPU s", "batch_add_cpu_s", 1),
    ("search p50 ms (top 10), before export", "search_p50_ms_before", 2),
    ("  index alone", "index_p50_ms_before", 2),
    ("  recall@10", "recall_at_10_before", 3),
    ("search p50 ms, one session, before", "filtered_search_p50_ms_before", 2),
    ("  index alone", "filtered_index_p50_ms_before", 3),
    ("export() s (HNSW build)", "export_s", 1),
    ("search p50 ms (top 10), after export", "search_p50_ms_after", 2),
    ("  index alone", "index_p50_ms_after", 2),
    ("  recall@10", "recall_at_10_after", 3),
    ("search p50 ms, one session, after", "filtered_search_p50_ms_after", 2),
    ("  index alone", "filtered_index_p50_ms_after", 3),
    ("reopen + first query s", "reopen_first_query_s", 2),
    ("  CPU s", "reopen_first_query_cpu_s", 2),
    ("  first query alone s", "first_query_s", 3),
    ("step by step: store open s", "store_open_s", 2),
    ("  CPU s", "store_open_cpu_s", 2),
    ("  Qdrant shard open s", "qdrant_shard_open_s", 2),
    ("    CPU s", "qdrant_shard_open_cpu_s", 2),
    ("  Qdrant in-step check s", "qdrant_in_step_check_s", 2),
    ("    CPU s", "qdrant_in_step_check_cpu_s", 2),
    ("  Qdrant first search s", "qdrant_first_search_s", 3),
    ("    CPU s", "qdrant_first_search_cpu_s", 3),
    ("search p50 ms after reopen", "search_p50_after_reopen_ms", 2),
    ("peak RSS MB, building", "build_peak_rss_mb", 0),
    ("peak RSS MB, reopening", "reopen_peak_rss_mb", 0),
)


def report(results: dict[str, Any]) -> str:
    """A readable table: one column per backend."""
    labels = list(results["backends"])
    width = max(len(name) for name, _, _ in ROWS)
    title = f"{results['storage']} store, {results['n']:,} interactions"
    lines = [f"{title:<{width}}"]
    lines[0] += "".join(f"  {label:>14}" for label in labels)
    for name, key, digits in ROWS:
        cells = []
        for label in labels:
            value = results["backends"][label].get(key)
            cells.append(f"  {'-':>14}" if value is None else f"  {value:>14,.{digits}f}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run, print and save (or run one child phase)."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        phase, path, backend, n, url = sys.argv[2:7]
        target = url or None
        if phase == "build":
            result = build(path, backend, int(n), target)
        elif phase == "reopen":
            result = reopen(path, backend, target)
        else:
            result = reopen_parts(path, backend, target)
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
