"""What keyword search costs on the JSON store (an in-memory bm25s index), beside SQLite's FTS5.

Run ``python bench/bench_keyword.py [--n 100000]``; results go to ``bench/results/keyword.json``.
With ``--n`` interactions stored (offline encoder), for each store:

* the first keyword search, which builds the index (JSON: bm25s over every prompt and response;
  SQLite: FTS5 indexes the rows not indexed yet);
* keyword search p50 (top 10, queries of two or three words, the same queries for both);
* on the JSON store, a keyword search right after one ``add_interaction`` (the index is built
  again) and right after one ``delete_interaction`` (the deleted prompt is only left out);
* the growth of the process's peak memory while the JSON index is built.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_core import WORDS, items, p50_ms, texts

from raeburnmemory.memory_graph import MemoryGraph

RESULTS = Path(__file__).parent / "results"
QUERIES = 200


def _queries(count: int) -> list[str]:
    rng = np.random.default_rng(7)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(2, 4)))) for _ in range(count)]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(graph: MemoryGraph, queries: list[str], *, churn: bool) -> dict[str, float]:
    found: dict[str, float] = {}
    peak = _peak_mb()
    began = time.perf_counter()
    graph.search(queries[0], 10, mode="keyword")
    found["first_search_s"] = time.perf_counter() - began
    found["peak_growth_mb"] = _peak_mb() - peak
    samples = []
    for query in queries:
        began = time.perf_counter()
        graph.search(query, 10, mode="keyword")
        samples.append(time.perf_counter() - began)
    found["search_p50_ms"] = p50_ms(samples)
    if churn:
        after_add, after_delete = [], []
        for i in range(5):
            graph.add_interaction(
                {"id": f"new{i}", "text": f"fresh prompt {i}"},
                {"id": f"rn{i}", "text": "x"},
                {"id": "a"},
                "s",
            )
            began = time.perf_counter()
            graph.search(queries[i], 10, mode="keyword")
            after_add.append(time.perf_counter() - began)
            graph.delete_interaction(f"new{i}")
            began = time.perf_counter()
            graph.search(queries[i], 10, mode="keyword")
            after_delete.append(time.perf_counter() - began)
        found["search_after_an_add_p50_ms"] = p50_ms(after_add)
        found["search_after_a_delete_p50_ms"] = p50_ms(after_delete)
    return found


def run(n: int) -> dict[str, Any]:
    """Every figure, per store."""
    queries = _queries(QUERIES)
    batch = items(texts(n, seed=3))
    results: dict[str, Any] = {"n": n}
    stores: dict[str, dict[str, Any]] = {"json": {}}
    if importlib.util.find_spec("raeburnmemory.sqlite") is not None:
        stores["sqlite"] = {"storage_backend": "sqlite", "vector_backend": "numpy"}
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in stores.items():
            path = Path(tmp) / f"graph.{'db' if name == 'sqlite' else 'json'}"
            with MemoryGraph(db_path=path, embedding_model=None, **options) as graph:
                graph.batch_add(batch)
                results[name] = _measure(graph, queries, churn=name == "json")
    return results


def report(results: dict[str, Any]) -> str:
    """A readable table of the figures."""
    lines = [f"{results['n']:,} interactions stored, top 10, {QUERIES} queries"]
    for store in ("json", "sqlite"):
        for key, value in results.get(store, {}).items():
            lines.append(f"{store:<7} {key:<32} {value:10.2f}")
    return "\n".join(lines)


def main() -> None:
    """Measure, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    results = run(args.n)
    print(report(results))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "keyword.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
