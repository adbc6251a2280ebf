"""Benchmarks of raeburnmemory-core: MemoryGraph on the default JSON store.

Run ``python bench/bench_core.py [--n 100000]``. Every ratio compares figures measured in this
same run, because the machine may be noisy. Results go to ``bench/results/core.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.memory_graph import MemoryGraph

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


def items(prompts: list[str], start: int = 0) -> list[dict[str, Any]]:
    """batch_add dicts for the prompts."""
    return [
        {
            "prompt": {"id": f"p{start + i}", "text": text},
            "response": {"id": f"r{start + i}", "text": "an answer"},
            "agent": {"id": f"agent-{i % 5}"},
            "session_id": f"session-{(start + i) // 20}",
        }
        for i, text in enumerate(prompts)
    ]


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


def reopen_in_subprocess(path: Path, query: str, options: dict[str, Any]) -> dict[str, float]:
    """Open the store in a fresh process, answer one query; time it and read the peak RSS."""
    code = f"""
import json, time
began = time.perf_counter()
from raeburnmemory.memory_graph import MemoryGraph
graph = MemoryGraph(db_path={str(path)!r}, embedding_model=None, **{options!r})
graph.get_similar_prompts({query!r}, 10)
elapsed = time.perf_counter() - began
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(json.dumps({{"seconds": elapsed, "peak_rss_mb": int(peak[0].split()[1]) / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def run(n: int) -> dict[str, Any]:
    """Every figure of the core benchmark at ``n`` stored interactions."""
    results: dict[str, Any] = {"n": n, "faiss": importlib.util.find_spec("faiss") is not None}
    prompts = texts(n)
    queries = texts(200, seed=99)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.json"

        small = Path(tmp) / "small.json"
        encode_began = time.perf_counter()
        HashingEncoder().encode(prompts)
        results["encode_only_per_s"] = n / (time.perf_counter() - encode_began)

        with (
            MemoryGraph(db_path=small, embedding_model=None) as little,
            MemoryGraph(db_path=path, embedding_model=None) as graph,
        ):
            little.batch_add(items(texts(1000, seed=5), start=30_000_000))
            began = time.perf_counter()
            graph.batch_add(items(prompts))
            results["batch_add_per_s"] = n / (time.perf_counter() - began)
            # Alternate rounds on the small and the large store so both see the same load.
            at_1k, at_n = [], []
            for round_number in range(6):
                at_1k.append(single_add_rate(little, 10_000_000 + round_number * 200, 200))
                at_n.append(single_add_rate(graph, 20_000_000 + round_number * 200, 200))
            results["single_add_per_s_at_1k"] = statistics.median(at_1k)
            results["single_add_per_s_at_n"] = statistics.median(at_n)

            encoder = HashingEncoder()
            query_vectors = encoder.encode(queries)
            samples = []
            for text in queries:
                began = time.perf_counter()
                graph.get_similar_prompts(text, 10)
                samples.append(time.perf_counter() - began)
            results["similar_p50_ms"] = p50_ms(samples)

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
            reference = min(
                results["bare_numpy_p50_ms"], results.get("bare_faiss_flat_p50_ms", 1e9)
            )
            results["similar_vs_best_bare"] = results["similar_p50_ms"] / reference
            graph.export()
        results["reopen_first_query"] = reopen_in_subprocess(path, queries[0], {})

        if results["faiss"]:
            with MemoryGraph(
                db_path=path, embedding_model=None, vector_backend="faiss", index="hnsw"
            ) as graph:
                began = time.perf_counter()
                graph.get_similar_prompts(queries[0], 10)
                results["hnsw_build_s"] = time.perf_counter() - began
                exact = MemoryGraph(db_path=path, embedding_model=None, vector_backend="numpy")
                recall, samples = [], []
                for text in queries:
                    began = time.perf_counter()
                    got = graph.get_similar_prompts(text, 10)
                    samples.append(time.perf_counter() - began)
                    truth = exact.get_similar_prompts(text, 10)
                    recall.append(len(set(got) & set(truth)) / 10)
                exact.close()
                results["hnsw_similar_p50_ms"] = p50_ms(samples)
                results["hnsw_recall_at_10"] = float(np.mean(recall))
            # Closing left a copy of the graph beside the store: the next open reads it back.
            hnsw = {"vector_backend": "faiss", "index": "hnsw"}
            results["hnsw_reopen_first_query"] = reopen_in_subprocess(path, queries[0], hnsw)
    return results


def report(results: dict[str, Any]) -> str:
    """A readable table of the figures."""
    rows = [
        ("batch_add interactions/s", results["batch_add_per_s"], ">= 20,000"),
        ("offline encoder alone, prompts/s", results["encode_only_per_s"], ""),
        ("single durable add/s (at 1,000)", results["single_add_per_s_at_1k"], ">= 2,000"),
        (
            f"single durable add/s (at {results['n']:,})",
            results["single_add_per_s_at_n"],
            ">= 0.9x",
        ),
        ("get_similar_prompts p50 ms (exact)", results["similar_p50_ms"], ""),
        ("bare numpy product p50 ms", results["bare_numpy_p50_ms"], ""),
        ("bare FAISS flat p50 ms", results.get("bare_faiss_flat_p50_ms", float("nan")), ""),
        ("exact p50 / best bare", results["similar_vs_best_bare"], "<= 1.2"),
        ("hnsw p50 ms", results.get("hnsw_similar_p50_ms", float("nan")), "<= 1"),
        ("hnsw recall@10", results.get("hnsw_recall_at_10", float("nan")), ">= 0.97"),
        ("reopen + first query s", results["reopen_first_query"]["seconds"], "<= 1.5"),
        ("reopen peak RSS MB", results["reopen_first_query"]["peak_rss_mb"], "<= 600"),
        ("hnsw build at first query s", results.get("hnsw_build_s", float("nan")), ""),
        (
            "hnsw reopen + first query s",
            results.get("hnsw_reopen_first_query", {}).get("seconds", float("nan")),
            "",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>12,.3f}  {goal}" for name, value, goal in rows)


def main() -> None:
    """Parse arguments, run, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="interactions to store")
    args = parser.parse_args()
    results = run(args.n)
    results["single_add_ratio"] = (
        results["single_add_per_s_at_n"] / results["single_add_per_s_at_1k"]
    )
    print(report(results))
    print(f"single add rate at {args.n:,} / at 1,000: {results['single_add_ratio']:.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "core.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
