"""Benchmark of the session overview (``MemoryGraph.session_overview``).

Run ``python bench/bench_sessions.py [--n 100000] [--sessions 2000] [--rounds 3]``. A JSON and a
SQLite store are filled with ``--n`` interactions over ``--sessions`` sessions and 5 agents
(offline encoder; filling is not timed). For each store it then measures, best of ``--rounds``:

* the first page of 50 summaries, by the store's own grouping (SQL ``GROUP BY`` in SQLite, the
  records in memory in the JSON store);
* the second page, through the first page's cursor;
* the first page filtered by one agent;
* the first page by the generic ``Store.session_summaries``, which builds every interaction: the
  reference the store's own grouping is compared with, in the same run.

Results go to ``bench/results/sessions.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Store

RESULTS = Path(__file__).parent / "results"
CHUNK = 10_000
_T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _items(start: int, count: int, sessions: int) -> list[Interaction]:
    return [
        Interaction(
            prompt_id=f"p{i}",
            prompt_text=f"question {i} about topic {i % 97}",
            response_id=f"r{i}",
            response_text=f"answer {i}",
            agent_id=f"agent-{i % 5}",
            session_id=f"session-{i % sessions}",
            timestamp=_T0 + timedelta(seconds=i),
            metadata={"n": i},
        )
        for i in range(start, start + count)
    ]


def _best_ms(run: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure(backend: str, folder: Path, n: int, sessions: int, rounds: int) -> dict[str, float]:
    """The figures of one store, in milliseconds."""
    path = folder / f"graph.{backend}"
    with MemoryGraph(path, embedding_model=None, storage_backend=backend) as memory:
        for start in range(0, n, CHUNK):
            memory.batch_add(_items(start, min(CHUNK, n - start), sessions))
        first = memory.session_overview(limit=50)
        figures = {
            "first_page_ms": _best_ms(lambda: memory.session_overview(limit=50), rounds),
            "second_page_ms": _best_ms(
                lambda: memory.session_overview(limit=50, cursor=first.next_cursor), rounds
            ),
            "one_agent_ms": _best_ms(
                lambda: memory.session_overview(limit=50, agent_id="agent-3"), rounds
            ),
        }
        store_class = type(memory.store)
        own = store_class.session_summaries
        store_class.session_summaries = Store.session_summaries  # type: ignore[method-assign]
        try:
            figures["generic_first_page_ms"] = _best_ms(
                lambda: memory.session_overview(limit=50), rounds
            )
        finally:
            store_class.session_summaries = own  # type: ignore[method-assign]
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="interactions in each store")
    parser.add_argument("--sessions", type=int, default=2000, help="sessions they spread over")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"n": args.n, "sessions": args.sessions, "stores": {}}
    with tempfile.TemporaryDirectory(prefix="raeburnmemory-bench-sessions-") as folder:
        for backend in ("json", "sqlite"):
            figures = measure(backend, Path(folder), args.n, args.sessions, args.rounds)
            results["stores"][backend] = figures
    print(f"session overview, {args.n:,} interactions in {args.sessions:,} sessions (ms, best)")
    print(f"{'store':8} {'first page':>11} {'next page':>10} {'one agent':>10} {'generic':>9}")
    for backend, figures in results["stores"].items():
        print(
            f"{backend:8} {figures['first_page_ms']:11.0f} {figures['second_page_ms']:10.0f} "
            f"{figures['one_agent_ms']:10.0f} {figures['generic_first_page_ms']:9.0f}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sessions.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
