"""Choosing an HNSW graph's ``ef_search`` from its own vectors, so recall holds on any data.

How many candidates a search must consider for a given recall depends on the vectors: the
offline encoder's sparse vectors reach recall@10 0.97 at 64 candidates over 100,000 prompts,
dense vectors can need two or three times as many. The graph's recall is therefore measured while
it is built: a sample of the vectors being inserted is held back, the rest go into the graph, and
the sample is searched as queries, exactly (a matrix product over every other vector) and through
the graph with ``ef_search`` on a ladder from the default upwards; the first step that reaches
the target is kept, then the sample is inserted too. Held-back vectors are new to the graph, as a
real query is: a vector already in the graph finds its own neighbour list and would flatter it.

A hit counts when its exact score is at least the ``k``-th best exact score, so prompts tied at
the boundary (duplicates) count as found, whichever of them the graph returned.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = [
    "LADDER",
    "MIN_SAMPLE",
    "SAMPLE",
    "TARGET",
    "boundary_scores",
    "choose_ef_search",
    "recall",
]

#: Recall@k the sample must reach: above the 0.97 promised, for the error of a sample.
TARGET = 0.98
#: Vectors held back as queries: at most this many, and at most a quarter of the graph.
SAMPLE = 200
#: Fewer new vectors than this in one insertion are too few to measure with.
MIN_SAMPLE = 50
#: ``ef_search`` values tried in turn (from the first one not below the default).
LADDER = (64, 96, 128, 192, 256, 384, 512, 768, 1024)
# Queries scored against every vector this many at a time (bounded scratch memory).
_CHUNK = 16
# Scores this close to the boundary count as reaching it (float32 sums differ in the last bits).
_TOLERANCE = 1e-5

#: ``search(queries, k, ef_search)``: per query, the ``k`` best scores and their labels.
SearchMany = Callable[
    [npt.NDArray[np.float32], int, int],
    tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]],
]


def boundary_scores(
    columns: npt.NDArray[np.float32],
    queries: npt.NDArray[np.float32],
    k: int,
    held_back: npt.NDArray[np.intp],
) -> npt.NDArray[np.float32]:
    """Per query, the ``k``-th best exact score among the columns not ``held_back``.

    ``columns`` holds the vectors dimension-major (one column each); the queries are the
    held-back columns, which the graph does not hold yet.
    """
    out = np.empty(len(queries), dtype=np.float32)
    if columns.shape[1] - len(held_back) < k:
        out.fill(-np.inf)
        return out
    for start in range(0, len(queries), _CHUNK):
        scores = queries[start : start + _CHUNK] @ columns
        scores[:, held_back] = -np.inf
        out[start : start + _CHUNK] = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
    return out


def recall(scores: npt.NDArray[np.float32], boundary: npt.NDArray[np.float32]) -> float:
    """Recall of answers (``scores``: one row of ``k`` per query) against the exact boundary."""
    if not scores.size:
        return 1.0
    return float(np.count_nonzero(scores >= boundary[:, None] - _TOLERANCE)) / scores.size


def choose_ef_search(
    search: SearchMany,
    queries: npt.NDArray[np.float32],
    boundary: npt.NDArray[np.float32],
    *,
    floor: int,
    k: int = 10,
) -> int:
    """The smallest ``ef_search`` of the ladder, not below ``floor``, whose recall@k on the
    held-back queries reaches :data:`TARGET`; the ladder's last step when none does."""
    steps = [floor, *(ef for ef in LADDER if ef > floor)]
    for ef in steps:
        scores, _ = search(queries, k, ef)
        if recall(scores, boundary) >= TARGET:
            return ef
    return steps[-1]
