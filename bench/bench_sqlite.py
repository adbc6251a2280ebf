"""Benchmarks of raeburnmemory-sqlite: MemoryGraph on one SQLite database file.

Run ``python bench/bench_sqlite.py [--n 100000]``. With the offline encoder it measures, at
``--n`` stored interactions:

* ``batch_add`` interactions per second, with FAISS vectors and with sqlite-vec (whose vec0
  table is brought up to date by the next search: that search is timed too), beside the core
  JSON store, the three fed the same chunks in turn so they share the machine's load;
* single durable ``add_interaction`` calls per second (one committed transaction each), the
  three stores again taking turns;
* search p50 with ``"faiss"`` against the core JSON store's p50 on the same prompts, and with
  ``"sqlite-vec"`` against a bare vec0 KNN query on the same table (each pair of searches
  alternating, so both see the same machine load);
* opening the database in a fresh process and answering a first query with ``"sqlite-vec"``
  (time after the interpreter's imports, and in all) and that process's peak RSS.

Results go to ``bench/results/sqlite.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_core import items, p50_ms, texts

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.sqlite._driver import connect

RESULTS = Path(__file__).parent / "results"
QUERIES = 200
CHUNK = 2048  # what MemoryGraph.batch_add writes at once


def _interleaved_batch_add(graphs: dict[str, MemoryGraph], prompts: list[str]) -> dict[str, float]:
    """batch_add rate of each graph, fed the same chunks in turn so all see the same load."""
    spent = dict.fromkeys(graphs, 0.0)
    batch = items(prompts)
    for start in range(0, len(batch), CHUNK):
        for name, graph in graphs.items():
            began = time.perf_counter()
            graph.batch_add(batch[start : start + CHUNK])
            spent[name] += time.perf_counter() - began
    return {name: len(prompts) / seconds for name, seconds in spent.items()}


def _interleaved_single_adds(graphs: dict[str, MemoryGraph], count: int) -> dict[str, float]:
    """Durable add_interaction calls per second of each graph, the graphs taking turns."""
    spent = dict.fromkeys(graphs, 0.0)
    for offset, text in enumerate(texts(count, seed=7)):
        pid = 20_000_000 + offset
        for name, graph in graphs.items():
            began = time.perf_counter()
            graph.add_interaction(
                {"id": f"p{pid}", "text": text}, {"id": f"r{pid}", "text": "ok"}, {"id": "a"}, "s"
            )
            spent[name] += time.perf_counter() - began
    return {name: count / seconds for name, seconds in spent.items()}


def _first_search_s(graph: MemoryGraph, query: str) -> float:
    """Seconds of a search that first adds the vectors written since the last one to vec0."""
    began = time.perf_counter()
    graph.get_similar_prompts(query, 10)
    return time.perf_counter() - began


def _search_samples(graph: MemoryGraph, queries: list[str]) -> list[float]:
    samples = []
    for text in queries:
        began = time.perf_counter()
        graph.get_similar_prompts(text, 10)
        samples.append(time.perf_counter() - began)
    return samples


def _alternating_p50(first: MemoryGraph, second: MemoryGraph, queries: list[str]) -> list[float]:
    """p50 of each graph, the two asked in turn so both run under the same load."""
    a: list[float] = []
    b: list[float] = []
    for text in queries:
        a += _search_samples(first, [text])
        b += _search_samples(second, [text])
    return [p50_ms(a), p50_ms(b)]


def _vec_against_bare(graph: MemoryGraph, path: Path, queries: list[str]) -> tuple[float, float]:
    """p50 of the graph's sqlite-vec search and of a bare vec0 KNN query on the same table."""
    conn, _ = connect(path, busy_timeout=30.0, synchronous="NORMAL")
    vectors = HashingEncoder().encode(queries)
    ours: list[float] = []
    bare: list[float] = []
    try:
        for text, vector in zip(queries, vectors, strict=True):
            ours += _search_samples(graph, [text])
            began = time.perf_counter()
            conn.execute(
                "SELECT rowid, distance FROM vec_prompts WHERE embedding MATCH ? AND k = 10",
                (vector.astype("<f4").tobytes(),),
            ).fetchall()
            bare.append(time.perf_counter() - began)
    finally:
        conn.close()
    return p50_ms(ours), p50_ms(bare)


def _numpy_p50(stored: Any, queries: list[str]) -> float:
    """p50 of a bare numpy product over the stored vectors: how loaded the machine is."""
    samples = []
    for vector in HashingEncoder().encode(queries):
        began = time.perf_counter()
        np.argpartition(-(stored @ vector), 10)[:10]
        samples.append(time.perf_counter() - began)
    return p50_ms(samples)


def open_and_query_in_subprocess(path: Path, query: str) -> dict[str, float]:
    """Open the database with sqlite-vec in a fresh process and answer one query."""
    code = f"""
import json, time
began = time.perf_counter()
from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.sqlite._driver import connect
imported = time.perf_counter()
graph = MemoryGraph(db_path={str(path)!r}, embedding_model=None, storage_backend="sqlite",
                    vector_backend="sqlite-vec", create=False)
hits = graph.get_similar_prompts({query!r}, 10)
done = time.perf_counter()
assert len(hits) == 10
# VmHWM, not ru_maxrss: Linux carries a parent's peak RSS across fork and exec into ru_maxrss.
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(json.dumps({{"open_and_query_s": done - imported, "with_imports_s": done - began,
                  "peak_rss_mb": peak / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def run(n: int) -> dict[str, Any]:
    """Every figure of the SQLite benchmark at ``n`` stored interactions."""
    results: dict[str, Any] = {"n": n}
    prompts = texts(n)
    queries = texts(QUERIES, seed=99)
    began = time.perf_counter()
    HashingEncoder().encode(prompts)
    results["encode_only_per_s"] = n / (time.perf_counter() - began)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with (
            MemoryGraph(folder / "faiss.db", None, "sqlite", "faiss") as sqlite_graph,
            MemoryGraph(folder / "vec.db", None, "sqlite", "sqlite-vec") as vec_graph,
            MemoryGraph(folder / "graph.json", None, "json", "faiss") as json_graph,
        ):
            graphs = {"faiss": sqlite_graph, "vec": vec_graph, "json": json_graph}
            for name, rate in _interleaved_batch_add(graphs, prompts).items():
                results[f"{name}_batch_add_per_s"] = rate
            results["vec_index_batch_s"] = _first_search_s(vec_graph, queries[0])
            for name, rate in _interleaved_single_adds(graphs, 1000).items():
                results[f"{name}_single_add_per_s"] = rate
            results["vec_index_singles_s"] = _first_search_s(vec_graph, queries[0])
            for graph in (sqlite_graph, json_graph):  # the first query builds the index
                graph.get_similar_prompts(queries[0], 10)
            sqlite_p50, json_p50 = _alternating_p50(sqlite_graph, json_graph, queries)
            results["faiss_search_p50_ms"] = sqlite_p50
            results["json_faiss_search_p50_ms"] = json_p50
            results["faiss_vs_json"] = sqlite_p50 / json_p50
            ours, bare = _vec_against_bare(vec_graph, folder / "vec.db", queries)
            results["vec_search_p50_ms"] = ours
            results["bare_vec0_p50_ms"] = bare
            stored = vec_graph.store.load_vectors().vectors
            results["bare_numpy_p50_ms"] = _numpy_p50(stored, queries)
        results["vec_open_first_query"] = open_and_query_in_subprocess(
            folder / "vec.db", queries[1]
        )
    return results


def report(results: dict[str, Any]) -> str:
    """A readable table of the figures."""
    opened = results["vec_open_first_query"]
    rows = [
        ("batch_add interactions/s (faiss)", results["faiss_batch_add_per_s"], ">= 20,000"),
        ("batch_add interactions/s (sqlite-vec)", results["vec_batch_add_per_s"], ">= 20,000"),
        ("  then first search, indexing them, s", results["vec_index_batch_s"], ""),
        ("  JSON store batch_add, same run", results["json_batch_add_per_s"], ""),
        ("  offline encoder alone, prompts/s", results["encode_only_per_s"], ""),
        ("single durable add/s (faiss)", results["faiss_single_add_per_s"], ">= 2,000"),
        ("single durable add/s (sqlite-vec)", results["vec_single_add_per_s"], ">= 2,000"),
        ("  then first search, indexing them, s", results["vec_index_singles_s"], ""),
        ("  JSON store single add/s, same run", results["json_single_add_per_s"], ""),
        ("search p50 ms (faiss)", results["faiss_search_p50_ms"], ""),
        ("search p50 ms (JSON store, faiss)", results["json_faiss_search_p50_ms"], ""),
        ("faiss p50 / JSON store p50", results["faiss_vs_json"], "<= 1.2"),
        ("search p50 ms (sqlite-vec)", results["vec_search_p50_ms"], "<= 50"),
        ("  bare vec0 KNN p50 ms, same table", results["bare_vec0_p50_ms"], ""),
        ("  bare numpy product p50 ms", results["bare_numpy_p50_ms"], ""),
        ("open + first query s (sqlite-vec)", opened["open_and_query_s"], "<= 0.5"),
        ("  the same with Python imports s", opened["with_imports_s"], ""),
        ("  peak RSS MB", opened["peak_rss_mb"], "< 200"),
    ]
    width = max(len(name) for name, _, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>12,.3f}  {goal}" for name, value, goal in rows)


def main() -> None:
    """Parse arguments, run, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="interactions to store")
    args = parser.parse_args()
    results = run(args.n)
    print(report(results))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sqlite.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
