"""A reader process for tests of what other processes see.

``python -m raeburnmemory.core.testing._search_worker OPTIONS_JSON`` opens a MemoryGraph with
the given options and prints ``ready``; then, for each line it reads (``MODE TEXT``), it prints
the search's hits as one JSON line of ``[prompt id, prompt text, score, response text,
metadata]`` lists. It stops at the
end of its input.
"""

from __future__ import annotations

import json
import sys

from raeburnmemory.core.memory import MemoryGraph


def main(argv: list[str]) -> int:
    """Run the reader; returns the exit status."""
    with MemoryGraph(**json.loads(argv[0])) as graph:
        print("ready", flush=True)
        for line in sys.stdin:
            mode, text = line.rstrip("\n").split(" ", 1)
            hits = graph.search(text, 2, mode=mode)
            found = [[h.id, h.prompt_text, h.score, h.response_text, h.metadata] for h in hits]
            print(json.dumps(found), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
