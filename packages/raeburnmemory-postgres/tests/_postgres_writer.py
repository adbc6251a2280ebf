"""A writer process for the racing-writers test: ``python _postgres_writer.py DSN SCHEMA N``.

Adds prompts every writer adds too (same content), prompts of its own, and finally one prompt
id every writer claims with different content. Prints one JSON line of what it added.
"""

from __future__ import annotations

import json
import sys

from raeburnmemory.core.errors import ConflictError
from raeburnmemory.core.testing import interaction, interactions, unit_vectors
from raeburnmemory.postgres import PostgresStore


def main(dsn: str, schema: str, number: int) -> None:
    """Write, then report the prompt ids this process added."""
    store = PostgresStore.open(None, options={"dsn": dsn, "schema": schema})
    added: list[str] = []
    try:
        shared = interactions(300, prefix="s")
        vectors = unit_vectors(300, 8, seed=1)
        own = interactions(100, prefix=f"u{number}-")
        own_vectors = unit_vectors(100, 8, seed=2 + number)
        for start in range(0, 100, 10):
            added += store.add(own[start : start + 10], own_vectors[start : start + 10])
            if start % 30 == 0:
                part = slice(start * 3, start * 3 + 100)
                added += store.add(shared[part], vectors[part])
        added += store.add(shared, vectors)
        try:
            claim = interaction(0, prefix="race", prompt_text=f"claimed by writer {number}")
            added += store.add([claim], unit_vectors(1, 8, seed=50 + number))
        except ConflictError:
            pass
    finally:
        store.close()
    print(json.dumps(added))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
