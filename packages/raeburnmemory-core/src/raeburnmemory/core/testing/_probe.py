"""A process that opens a store, reads it and tries one write, then says what happened.

``python -m raeburnmemory.core.testing._probe OPTIONS_JSON read|write`` opens a MemoryGraph with
the given options (the offline encoder and numpy vectors unless they say otherwise), counts the
interactions, searches for sample interaction 3 and, with ``write``, adds two sample
interactions. It prints one JSON object: ``count``, ``found``, ``wrote`` as far as it got, and
``error`` (the exception's class name and message) if one was raised.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing.data import interaction, interactions


def main(argv: list[str]) -> int:
    """Run the probe; returns the exit status."""
    options = {"embedding_model": None, "vector_backend": "numpy", **json.loads(argv[0])}
    write = argv[1] == "write"
    report: dict[str, Any] = {}
    try:
        with MemoryGraph(**options) as graph:
            report["count"] = graph.stats()["interactions"]
            report["found"] = graph.get_similar_prompts(interaction(3).prompt_text, 1)
            if write:
                graph.batch_add(interactions(2, start=100))
                report["wrote"] = True
    except Exception as exc:  # the probe reports every failure, expected or not
        report["error"] = [type(exc).__name__, str(exc)]
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
