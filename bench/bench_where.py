"""What a metadata filter costs over column arrays, beside evaluating it record by record.

Run ``python bench/bench_where.py [--n 100000]``; results go to ``bench/results/where.json``.
With ``--n`` records of generated metadata (a user among 100, a score, two tags among 10, a
priority, a flag, a key half of them lack), for each of a few filters:

* ``mask_ms``: p50 of :meth:`WhereColumns.mask` over every record;
* ``matches_ms``: one pass of :func:`matches` over every record (the reference, in Python);
* ``sqlite_ms``: p50 of counting the matching rows of an in-memory SQLite table with the
  filter's SQL (JSON functions over a ``metadata`` text column, no index);
* the share of records the filter selects, and the columns' build time, once.

Every answer is checked against the reference before it is timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from raeburnmemory.core._where_columns import WhereColumns
from raeburnmemory.core.where import Where, matches
from raeburnmemory.sqlite._driver import driver
from raeburnmemory.sqlite._where import register, where_sql

RESULTS = Path(__file__).parent / "results"
REPEATS = 7
FILTERS: dict[str, dict[str, Any]] = {
    "user equals (1%)": {"user": "u7"},
    "score range": {"score": {"$gte": 0.2, "$lt": 0.3}},
    "tag in list": {"tags": {"$in": ["t1", "t2"]}},
    "missing key ($ne)": {"reviewed": {"$ne": True}},
    "and / or": {"$and": [{"priority": {"$lte": 1}}, {"$or": [{"done": True}, {"user": "u3"}]}]},
}


def records(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """``count`` records of generated metadata."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 100, count)
    scores = rng.random(count)
    tags = rng.integers(0, 10, (count, 2))
    found: list[dict[str, Any]] = []
    for row in range(count):
        meta: dict[str, Any] = {
            "user": f"u{users[row]}",
            "score": float(scores[row]),
            "tags": [f"t{tags[row, 0]}", f"t{tags[row, 1]}"],
            "priority": row % 5,
            "done": bool(row % 3 == 0),
        }
        if row % 2:
            meta["reviewed"] = bool(row % 4 == 1)
        found.append(meta)
    return found


def p50_ms(run: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median time of ``run`` in milliseconds."""
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    """Measure, print a table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="how many records")
    args = parser.parse_args(argv)
    metadata = records(args.n)

    began = time.perf_counter()
    columns = WhereColumns.build(metadata)
    build_s = time.perf_counter() - began

    conn = driver().module.connect(":memory:")
    register(conn)
    conn.execute("CREATE TABLE interactions (seq INTEGER PRIMARY KEY, metadata TEXT NOT NULL)")
    conn.executemany(
        "INSERT INTO interactions VALUES (?, ?)",
        [(row, json.dumps(meta, separators=(",", ":"))) for row, meta in enumerate(metadata)],
    )

    results: dict[str, Any] = {"n": args.n, "columns_build_s": build_s, "filters": {}}
    print(f"{args.n} records; columns built in {build_s:.2f} s")
    print(
        f"{'filter':<20} {'selected':>8} {'mask ms':>9} {'matches ms':>11} {'speedup':>8} "
        f"{'sqlite ms':>10}"
    )
    for name, mapping in FILTERS.items():
        where = Where.parse(mapping)
        began = time.perf_counter()
        expected = [matches(where, meta) for meta in metadata]
        matches_ms = (time.perf_counter() - began) * 1000
        if columns.mask(where).tolist() != expected:
            raise SystemExit(f"{name}: the columns' mask differs from matches()")
        text, values = where_sql(where, "metadata")
        query = f"SELECT count(*) FROM interactions WHERE {text}"
        if conn.execute(query, values).fetchone()[0] != sum(expected):
            raise SystemExit(f"{name}: the SQL count differs from matches()")
        mask_ms = p50_ms(lambda where=where: columns.mask(where))
        sqlite_ms = p50_ms(
            lambda query=query, values=values: conn.execute(query, values).fetchone(), repeats=3
        )
        share = sum(expected) / args.n
        results["filters"][name] = {
            "filter": mapping,
            "selected": share,
            "mask_ms": mask_ms,
            "matches_ms": matches_ms,
            "sqlite_ms": sqlite_ms,
        }
        print(
            f"{name:<20} {share:8.1%} {mask_ms:9.2f} {matches_ms:11.1f} "
            f"{matches_ms / mask_ms:7.0f}x {sqlite_ms:10.1f}"
        )
    conn.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "where.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
