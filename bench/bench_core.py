"""Benchmarks of raeburnmemory-core: MemoryGraph on the default JSON store.

Run ``python bench/bench_core.py [--n 100000] [--workload sparse|dense|both]``: the offline
encoder's vectors (``sparse``) and dense ones hashed from the same features (``dense``, see
``workloads.py``), by default both in turn. Vectors of the stored prompts are computed before
``batch_add`` (its rate excludes encoding; the encoder's own rate is reported beside it). BLAS
is held to one thread (``--blas-threads``), as in the HTTP API's workers. Every
ratio compares figures measured in this same run, because the machine may be noisy. ``--n
1000000`` needs an estimated 12 GB of memory (it is not the default: it takes long). Results go to
``bench/results/core.json``, one entry per workload.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.memory_graph import MemoryGraph

sys.path.insert(0, str(Path(__file__).parent))

from workloads import WORKLOADS, PrecomputedEncoder, encoder_for

RESULTS = Path(__file__).parent / "results"
WORDS = [
    "reset",
    "password",
    "bake",
    "bread",
    "tune",
    "database",
    "hiking",
    "alps",
    "haiku",
    "autumn",
    "rain",
    "vector",
    "search",
    "fix",
    "leaking",
    "tap",
    "choose",
    "language",
    "deploy",
    "cluster",
    "summarise",
    "contract",
    "translate",
    "letter",
    "budget",
    "travel",
    "visa",
    "invoice",
    "refund",
    "kettle",
    "garden",
    "tomato",
    "python",
    "rust",
    "memory",
    "graph",
    "agent",
    "session",
]


def texts(count: int, seed: int = 0) -> list[str]:
    """Prompts of 8 to 14 words with a unique number, so every one is distinct."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(WORDS), size=(count, 14))
    lengths = rng.integers(8, 15, size=count)
    return [
        " ".join(WORDS[w] for w in row[:n]) + f" #{i}"
        for i, (row, n) in enumerate(zip(picks, lengths, strict=True))
    ]


def iter_items(prompts: list[str], start: int = 0) -> Iterator[dict[str, Any]]:
    """batch_add dicts for the prompts, made as they are consumed (bounded memory at 1M)."""
    for i, text in enumerate(prompts):
        yield {
            "prompt": {"id": f"p{start + i}", "text": text},
            "response": {"id": f"r{start + i}", "text": "an answer"},
            "agent": {"id": f"agent-{i % 5}"},
            "session_id": f"session-{(start + i) // 20}",
        }


def items(prompts: list[str], start: int = 0) -> list[dict[str, Any]]:
    """batch_add dicts for the prompts."""
    return list(iter_items(prompts, start))


def p50_ms(samples: list[float]) -> float:
    """Median in milliseconds."""
    return statistics.median(samples) * 1000


def single_add_rate(graph: MemoryGraph, start: int, count: int) -> float:
    """Durable add_interaction calls per second."""
    prompts = texts(count, seed=start)
    began = time.perf_counter()
    for offset, text in enumerate(prompts):
        pid = start + offset
        graph.add_interaction(
            {"id": f"p{pid}", "text": text}, {"id": f"r{pid}", "text": "ok"}, {"id": "a"}, "single"
        )
    return count / (time.perf_counter() - began)


def reset_peak_rss() -> None:
    """Start this process's peak resident memory afresh from what it holds now (Linux only), so
    a workload's peak is its own, not an earlier one's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started or since :func:`reset_peak_rss`
    (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(path: Path) -> float:
    """Size of the store's files (``graph.json`` and everything named after it), in MB."""
    return sum(f.stat().st_size for f in path.parent.glob(f"{path.name}*") if f.is_file()) / 1e6


def reopen_in_subprocess(
    path: Path, query: str, options: dict[str, Any], workload: str
) -> dict[str, float]:
    """Open the store in a fresh process, answer one query; time it and read the peak RSS."""
    code = f"""
import json, sys, time
began = time.perf_counter()
sys.path.insert(0, {str(Path(__file__).parent)!r})
from workloads import encoder_for
from raeburnmemory.memory_graph import MemoryGraph
graph = MemoryGraph(db_path={str(path)!r}, embedding_model=encoder_for({workload!r}), **{options!r})
graph.get_similar_prompts({query!r}, 10)
elapsed = time.perf_counter() - began
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(json.dumps({{"seconds": elapsed, "peak_rss_mb": int(peak[0].split()[1]) / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def timed_queries(graph: MemoryGraph, queries: list[str]) -> tuple[list[list[str]], float]:
    """Each query's top 10 and the p50 of the calls, in ms."""
    answers, samples = [], []
    for text in queries:
        began = time.perf_counter()
        answers.append(graph.get_similar_prompts(text, 10))
        samples.append(time.perf_counter() - began)
    return answers, p50_ms(samples)


def recall_at_10(found: list[list[str]], truth: list[list[str]]) -> float:
    """Mean share of each exact top 10 that was found."""
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


def hnsw_ef_search(graph: MemoryGraph) -> int | None:
    """The ``ef_search`` the graph's HNSW index searches with (benchmark introspection)."""
    hnsw = getattr(graph._keeper.index, "_hnsw", None)
    return None if hnsw is None else int(hnsw.ef_search)


def run(n: int, workload: str = "sparse") -> dict[str, Any]:
    """Every figure of the core benchmark at ``n`` stored interactions of one workload."""
    results: dict[str, Any] = {
        "n": n,
        "workload": workload,
        "faiss": importlib.util.find_spec("faiss") is not None,
    }
    reset_peak_rss()
    prompts = texts(n)
    queries = texts(200, seed=99)
    encoder = encoder_for(workload)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.json"
        small = Path(tmp) / "small.json"

        encode_began = time.perf_counter()
        precomputed = PrecomputedEncoder(encoder, prompts)
        results["encode_only_per_s"] = n / (time.perf_counter() - encode_began)
        results["peak_rss_mb_before_batch_add"] = peak_rss_mb()

        with (
            MemoryGraph(db_path=small, embedding_model=encoder) as little,
            MemoryGraph(db_path=path, embedding_model=precomputed) as graph,
        ):
            little.batch_add(iter_items(texts(1000, seed=5), start=30_000_000))
            began, began_cpu = time.perf_counter(), time.process_time()
            graph.batch_add(iter_items(prompts))
            results["batch_add_s"] = time.perf_counter() - began
            results["batch_add_cpu_s"] = time.process_time() - began_cpu
            results["batch_add_per_s"] = n / results["batch_add_s"]
            results["batch_add_peak_rss_mb"] = peak_rss_mb()
            began, began_cpu = time.perf_counter(), time.process_time()
            graph.export()
            results["export_s"] = time.perf_counter() - began
            results["export_cpu_s"] = time.process_time() - began_cpu
            results["batch_add_and_export_per_s"] = n / (
                results["batch_add_s"] + results["export_s"]
            )
            results["build_peak_rss_mb"] = peak_rss_mb()
            results["disk_mb"] = disk_mb(path)
            precomputed.forget()
            del prompts
            # Alternate rounds on the small and the large store so both see the same load.
            at_1k, at_n = [], []
            for round_number in range(6):
                at_1k.append(single_add_rate(little, 10_000_000 + round_number * 200, 200))
                at_n.append(single_add_rate(graph, 20_000_000 + round_number * 200, 200))
            results["single_add_per_s_at_1k"] = statistics.median(at_1k)
            results["single_add_per_s_at_n"] = statistics.median(at_n)

            truth, results["similar_p50_ms"] = timed_queries(graph, queries)

            query_vectors = encoder.encode(queries)
            stored = graph.store.load_vectors().vectors
            matmul = []
            for q in query_vectors:
                began = time.perf_counter()
                scores = stored @ q
                np.argpartition(-scores, 10)[:10]
                matmul.append(time.perf_counter() - began)
            results["bare_numpy_p50_ms"] = p50_ms(matmul)
            if results["faiss"]:
                import faiss

                flat = faiss.IndexFlatIP(stored.shape[1])
                flat.add(stored)
                bare = []
                for q in query_vectors:
                    began = time.perf_counter()
                    flat.search(q.reshape(1, -1), 10)
                    bare.append(time.perf_counter() - began)
                results["bare_faiss_flat_p50_ms"] = p50_ms(bare)
                del flat
            del stored
            reference = min(
                results["bare_numpy_p50_ms"], results.get("bare_faiss_flat_p50_ms", 1e9)
            )
            results["similar_vs_best_bare"] = results["similar_p50_ms"] / reference
            graph.export()
        results["reopen_first_query"] = reopen_in_subprocess(path, queries[0], {}, workload)

        if results["faiss"]:
            hnsw: dict[str, Any] = {"vector_backend": "faiss", "index": "hnsw"}
            with MemoryGraph(db_path=path, embedding_model=encoder, **hnsw) as graph:
                began = time.perf_counter()
                graph.get_similar_prompts(queries[0], 10)
                results["hnsw_build_s"] = time.perf_counter() - began
                results["hnsw_ef_search"] = hnsw_ef_search(graph)
                found, results["hnsw_similar_p50_ms"] = timed_queries(graph, queries)
                results["hnsw_recall_at_10"] = recall_at_10(found, truth)
            # Closing left a copy of the graph beside the store: the next open reads it back.
            results["hnsw_reopen_first_query"] = reopen_in_subprocess(
                path, queries[0], hnsw, workload
            )
            results["disk_mb_with_hnsw_copy"] = disk_mb(path)
            # The same graph (read back from its copy) at the old fixed ef_search of 64.
            fixed = {**hnsw, "ef_search": 64}
            with MemoryGraph(db_path=path, embedding_model=encoder, **fixed) as graph:
                graph.get_similar_prompts(queries[0], 10)
                found, results["hnsw_ef64_similar_p50_ms"] = timed_queries(graph, queries)
                results["hnsw_ef64_recall_at_10"] = recall_at_10(found, truth)
    return results


def report(results: dict[str, Any]) -> str:
    """A readable table of the figures."""
    nan = float("nan")
    hnsw_reopen = results.get("hnsw_reopen_first_query", {})
    rows = [
        ("batch_add interactions/s (encoding excluded)", results["batch_add_per_s"], ""),
        ("batch_add s", results["batch_add_s"], ""),
        ("export() right after batch_add s", results["export_s"], "<= batch_add / 4"),
        ("batch_add + export interactions/s", results["batch_add_and_export_per_s"], ">= 15,000"),
        ("batch_add CPU s", results["batch_add_cpu_s"], ""),
        ("export() CPU s", results["export_cpu_s"], "<= batch_add CPU / 4"),
        ("peak RSS up to the end of batch_add MB", results["batch_add_peak_rss_mb"], ""),
        ("peak RSS up to the end of export MB", results["build_peak_rss_mb"], "< 600"),
        ("disk size of the store MB", results["disk_mb"], ""),
        (f"{results['workload']} encoder alone, prompts/s", results["encode_only_per_s"], ""),
        ("single durable add/s (at 1,000)", results["single_add_per_s_at_1k"], ">= 2,000"),
        (
            f"single durable add/s (at {results['n']:,})",
            results["single_add_per_s_at_n"],
            ">= 0.9x",
        ),
        ("get_similar_prompts p50 ms (exact)", results["similar_p50_ms"], ""),
        ("bare numpy product p50 ms", results["bare_numpy_p50_ms"], ""),
        ("bare FAISS flat p50 ms", results.get("bare_faiss_flat_p50_ms", nan), ""),
        ("exact p50 / best bare", results["similar_vs_best_bare"], "<= 1.2"),
        ("hnsw ef_search chosen", results.get("hnsw_ef_search") or nan, ""),
        ("hnsw p50 ms", results.get("hnsw_similar_p50_ms", nan), "<= 1"),
        ("hnsw recall@10", results.get("hnsw_recall_at_10", nan), ">= 0.97"),
        ("hnsw at ef_search 64: p50 ms", results.get("hnsw_ef64_similar_p50_ms", nan), ""),
        ("hnsw at ef_search 64: recall@10", results.get("hnsw_ef64_recall_at_10", nan), ""),
        ("reopen + first query s", results["reopen_first_query"]["seconds"], "<= 1.5"),
        ("reopen peak RSS MB", results["reopen_first_query"]["peak_rss_mb"], "< 500"),
        ("hnsw build (and measure) at first query s", results.get("hnsw_build_s", nan), ""),
        ("hnsw reopen + first query s", hnsw_reopen.get("seconds", nan), ""),
        ("hnsw reopen peak RSS MB", hnsw_reopen.get("peak_rss_mb", nan), ""),
        ("disk size with the hnsw copy MB", results.get("disk_mb_with_hnsw_copy", nan), ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>12,.3f}  {goal}" for name, value, goal in rows)


def main() -> None:
    """Parse arguments, run, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="interactions to store")
    parser.add_argument(
        "--workload",
        choices=(*WORKLOADS, "both"),
        default="both",
        help="vectors: the offline encoder's (sparse), dense ones, or both in turn",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads for a search, as the HTTP API's workers use (0: numpy's default)",
    )
    args = parser.parse_args()
    if args.blas_threads > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.blas_threads, user_api="blas")
    workloads = WORKLOADS if args.workload == "both" else (args.workload,)
    everything = {}
    for workload in workloads:
        results = run(args.n, workload)
        results["single_add_ratio"] = (
            results["single_add_per_s_at_n"] / results["single_add_per_s_at_1k"]
        )
        print(f"\n{workload} workload, {args.n:,} interactions", flush=True)
        print(report(results))
        print(f"single add rate at {args.n:,} / at 1,000: {results['single_add_ratio']:.2f}")
        everything[workload] = results
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "core.json").write_text(json.dumps(everything, indent=2))


if __name__ == "__main__":
    main()
