"""The default store: a node-link JSON snapshot, an append-only journal and a vectors file.

Files beside ``graph.json`` (the snapshot)::

    graph.json.journal        every write since the snapshot, one JSON line each
    graph.json.faiss          prompt vectors as a FAISS flat inner-product index (with faiss),
    graph.json.vectors.npy    ... or as a numpy matrix (without it); either opens either way
    graph.json.map.json       the prompt id of each vectors row, the generation, a checksum
    graph.json.lock           writers take turns on this lock

A write takes the lock, reads what other processes appended since its last look, checks the
request, appends one line and flushes it (``fsync=True`` also forces it to disk) before it
returns. :meth:`JsonStore.compact` folds the journal into a new snapshot written beside the old
one and renamed into place in an order that a crash at any point can finish or undo.
"""

from raeburnmemory.core.json_store._store import JsonStore

__all__ = ["JsonStore"]
