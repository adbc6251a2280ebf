"""Hybrid search: one ranking from a vector ranking and a keyword ranking.

Each ranking's scores are first brought to ``[0, 1]``: cosine similarities by min-max over the
vector candidates (the best is 1, the weakest candidate 0), keyword scores by division by the
best keyword score (every store's keyword score is positive, higher is better). The fused score
is ``vector_weight * vector + (1 - vector_weight) * keyword``, a prompt missing from one ranking
counting 0 there.

Unlike reciprocal rank fusion, this keeps how far apart the candidates are: a prompt the vector
search puts well ahead is not overtaken by one that only shares a common word with the query,
while a prompt found by a rare exact term (the only keyword hit, or far ahead of the others) and
close to the top of the vector ranking rises to the first place.
"""

from __future__ import annotations

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.store import ScoredIds

__all__ = ["HYBRID_DEPTH", "HYBRID_VECTOR_WEIGHT", "candidate_depth", "fuse", "vector_weight"]

#: The vector ranking's share of a hybrid score; the keyword ranking has the rest.
HYBRID_VECTOR_WEIGHT = 0.7
#: Each ranking gives hybrid search at least this many candidates (and at least 4 x top_k).
HYBRID_DEPTH = 50


def candidate_depth(top_k: int) -> int:
    """How many candidates each ranking gives a hybrid search for ``top_k`` hits."""
    return max(4 * top_k, HYBRID_DEPTH)


def vector_weight(value: object) -> float:
    """``value`` checked as a vector weight: a number from 0 to 1 (``None``: the default)."""
    if value is None:
        return HYBRID_VECTOR_WEIGHT
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigurationError(f"vector_weight must be a number from 0 to 1, not {value!r}")
    return float(value)


def _scaled_vector(ranking: ScoredIds) -> dict[str, float]:
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    span = high - low
    return {pid: (score - low) / span if span > 0 else 1.0 for pid, score in ranking}


def _scaled_keyword(ranking: ScoredIds) -> dict[str, float]:
    best = max((score for _, score in ranking), default=0.0)
    if best <= 0:
        return {pid: 1.0 for pid, _ in ranking}
    return {pid: max(score, 0.0) / best for pid, score in ranking}


def fuse(by_vector: ScoredIds, by_keyword: ScoredIds, weight: float) -> ScoredIds:
    """The fused ranking of both, best first (ties keep the vector ranking's order)."""
    vector = _scaled_vector(by_vector)
    keyword = _scaled_keyword(by_keyword)
    order = list(dict.fromkeys([pid for pid, _ in by_vector] + [pid for pid, _ in by_keyword]))
    fused = [
        (pid, weight * vector.get(pid, 0.0) + (1.0 - weight) * keyword.get(pid, 0.0))
        for pid in order
    ]
    fused.sort(key=lambda pair: pair[1], reverse=True)  # stable: ties keep the order above
    return fused
