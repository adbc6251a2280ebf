"""A writer process for multi-process and crash tests.

``python -m raeburnmemory.core.testing._worker OPTIONS_JSON PREFIX START COUNT [BATCH]`` opens a
MemoryGraph with the given options, adds ``COUNT`` sample interactions (one by one, or in batches
of ``BATCH``) and prints each prompt id as soon as the call that wrote it has returned.
"""

from __future__ import annotations

import json
import sys

from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing.data import interactions


def main(argv: list[str]) -> int:
    """Run the writer; returns the exit status."""
    options = json.loads(argv[0])
    prefix, start, count = argv[1], int(argv[2]), int(argv[3])
    batch = int(argv[4]) if len(argv) > 4 else 1
    items = interactions(count, start, prefix=prefix)
    with MemoryGraph(**options) as graph:
        print("ready", flush=True)
        for first in range(0, count, batch):
            chunk = items[first : first + batch]
            graph.batch_add(chunk)
            print("\n".join(item.prompt_id for item in chunk), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
