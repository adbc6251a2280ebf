"""Benchmark of the JSON Lines export and import (``write_jsonl`` and ``import_file``).

Run ``python bench/bench_jsonl.py [--n 100000]``. A SQLite store is filled with ``--n``
interactions whose 384-dimension vectors come from the offline encoder (filling is not timed),
and one link every 10 interactions. It then measures, in one run:

* exporting the store to JSON Lines (lines per second, file size and bytes per interaction);
* reading the file back without writing anything (lines per second: parsing and decoding);
* importing it into an empty SQLite store and an empty JSON store, the vectors kept as they are;
* importing it into a MemoryGraph with another encoder, so every prompt is encoded again.

Results go to ``bench/results/jsonl.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.importing import import_file
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.jsonl import read_jsonl, write_jsonl
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import EncoderInfo, Interaction, Link
from raeburnmemory.sqlite import SQLiteStore

RESULTS = Path(__file__).parent / "results"
CHUNK = 5000
_T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _items(start: int, count: int) -> list[Interaction]:
    return [
        Interaction(
            prompt_id=f"p{i}",
            prompt_text=f"How do I configure widget {i} for the production cluster?",
            response_id=f"r{i}",
            response_text=f"Edit the settings of widget {i}, then restart the service.",
            agent_id=f"agent-{i % 7}",
            agent_name=f"Agent {i % 7}",
            session_id=f"s{i // 25}",
            timestamp=_T0 + timedelta(seconds=i),
            metadata={"n": i, "team": "platform"},
        )
        for i in range(start, start + count)
    ]


def _fill(path: Path, n: int) -> None:
    encoder = HashingEncoder(384)
    with SQLiteStore.open(str(path)) as store:
        store.set_encoder_info(EncoderInfo(encoder.name, encoder.dim))
        for start in range(0, n, CHUNK):
            items = _items(start, min(CHUNK, n - start))
            store.add(items, encoder.encode([item.prompt_text for item in items]))
        for i in range(10, n, 10):
            store.link(Link(f"p{i}", f"p{i - 10}", "follows"))


def _timed(what: str, n: int, run: Any) -> dict[str, float]:
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    figures = {"seconds": round(seconds, 2), "lines_per_second": round(n / seconds)}
    print(f"{what:<44} {seconds:8.2f} s {figures['lines_per_second']:>10,} lines/s", flush=True)
    return figures


def _read_only(path: Path) -> None:
    with read_jsonl(path) as reader:
        for _ in reader:
            pass


def main() -> None:
    """Fill, export, read and import; print a table and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    n = args.n
    result: dict[str, Any] = {"n": n, "dim": 384}
    with tempfile.TemporaryDirectory(prefix="bench-jsonl-") as folder:
        work = Path(folder)
        _fill(work / "source.db", n)
        file = work / "memory.jsonl"
        with SQLiteStore.open(str(work / "source.db")) as source:
            result["export"] = _timed(
                "export (SQLite store -> JSONL)", n, lambda: write_jsonl(source, file)
            )
        size = file.stat().st_size
        result["file_bytes"] = size
        result["bytes_per_interaction"] = round(size / n)
        print(f"file size {size / 1e6:.1f} MB, {size / n:,.0f} bytes an interaction")
        result["read"] = _timed("read and decode only", n, lambda: _read_only(file))
        with SQLiteStore.open(str(work / "copy.db")) as lite:
            result["import_sqlite"] = _timed(
                "import into SQLite, vectors kept", n, lambda: import_file(lite, file)
            )
        with JsonStore.open(str(work / "copy" / "graph.json")) as store:
            result["import_json"] = _timed(
                "import into JSON, vectors kept", n, lambda: import_file(store, file)
            )
        with MemoryGraph(work / "re" / "graph.json", embedding_model=HashingEncoder(256)) as mg:
            result["import_reembed"] = _timed(
                "import into JSON, encoded again (256-d)", n, lambda: import_file(mg, file)
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "jsonl.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
