"""Searcher: what a MemoryGraph search asks for, ranked by vectors, keywords or both."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from raeburnmemory.core._threads import search_threads
from raeburnmemory.core.checks import require_same_encoder
from raeburnmemory.core.encoders import Encoder
from raeburnmemory.core.errors import ConfigurationError, NoEmbeddingsError
from raeburnmemory.core.fusion import candidate_depth, fuse, vector_weight
from raeburnmemory.core.listing import ListQuery
from raeburnmemory.core.memory._encoding import encode
from raeburnmemory.core.memory._index_keeper import IndexKeeper
from raeburnmemory.core.model import (
    MAX_TOP_K,
    EncoderInfo,
    Interaction,
    SearchFilter,
    SearchHit,
    parse_timestamp,
)
from raeburnmemory.core.store import Matrix, ScoredIds, Store
from raeburnmemory.core.where import Where

__all__ = ["SEARCH_MODES", "SearchRequest", "Searcher", "hits"]

#: ``search(mode=...)`` values.
SEARCH_MODES = ("vector", "keyword", "hybrid")


def _top_k(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOP_K:
        raise ConfigurationError(f"top_k must be an integer from 1 to {MAX_TOP_K}, not {value!r}")
    return value


def _query_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"the search text must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ConfigurationError("the search text is empty: give the words to search for")
    return value


def _moment(value: Any, name: str) -> float | None:
    return None if value is None else parse_timestamp(value, name=name).timestamp()


def _checked_weight(weight: float | None, mode: str) -> float | None:
    """``vector_weight`` checked; it is only for ``mode="hybrid"``."""
    if weight is None:
        return None
    if mode != "hybrid":
        raise ConfigurationError("vector_weight is only for mode='hybrid'")
    return vector_weight(weight)


@dataclass(frozen=True)
class SearchRequest:
    """One search, its arguments checked: build it with :meth:`checked`."""

    text: str
    k: int
    filter: SearchFilter
    min_score: float | None
    mode: str
    weight: float | None

    @classmethod
    def checked(
        cls,
        text: Any,
        top_k: Any,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Any = None,
        until: Any = None,
        min_score: float | None = None,
        mode: str = "vector",
        weight: float | None = None,
        where: Where | Mapping[str, Any] | None = None,
    ) -> SearchRequest:
        """The request of ``MemoryGraph.search``'s arguments; ``ConfigurationError`` names a
        bad one (a bad ``since``/``until`` raises what ``parse_timestamp`` raises, a malformed
        ``where`` an ``InvalidFilterError`` naming its bad part)."""
        weight = _checked_weight(weight, mode)
        text = _query_text(text)
        k = _top_k(top_k)
        if mode not in SEARCH_MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        parsed = Where.of(where)
        flt = SearchFilter(
            session_id,
            agent_id,
            _moment(since, "since"),
            _moment(until, "until"),
            where=None if parsed is None or parsed.everything else parsed,
        )
        return cls(text, k, flt, min_score, mode, weight)


class Searcher:
    """Ranks stored prompts for a :class:`SearchRequest`: by vector, by keyword, or both fused.

    Vector searches go to the keeper's index, or to the store when it searches itself.
    """

    def __init__(self, encoder: Encoder, keeper: IndexKeeper) -> None:
        self._encoder = encoder
        self._keeper = keeper

    def query_vector(self, request: SearchRequest) -> Matrix | None:
        """The encoded search text (``None`` for a keyword search, which needs none)."""
        return None if request.mode == "keyword" else encode(self._encoder, [request.text])

    def ranked(self, store: Store, request: SearchRequest, query: Matrix | None) -> ScoredIds:
        """The ranked ``(prompt id, score)`` pairs, best first, weaker than ``min_score`` left out.

        The caller holds the graph's lock and has caught up with other writers.
        """
        flt, k = request.filter, request.k
        if request.mode == "keyword":
            keyword_flt = _for_store(store, flt)
            scored = best(lambda n: store.keyword_search(request.text, n, keyword_flt), k)
        elif request.mode == "vector":
            assert query is not None
            scanned: list[ScoredIds] = []  # a first search's scan, kept while it widens
            scored = best(lambda n: self._vector_search(store, query, n, flt, scanned), k)
        else:
            assert query is not None
            depth = candidate_depth(k)
            by_vector = self._vector_search(store, query, depth, flt)
            by_keyword = store.keyword_search(request.text, depth, _for_store(store, flt))
            fused = fuse(by_vector, by_keyword, vector_weight(request.weight))
            scored = tie_order(fused)[:k]
        if request.min_score is not None:
            scored = [(pid, score) for pid, score in scored if score >= request.min_score]
        return scored

    def _vector_search(
        self,
        store: Store,
        query: Matrix,
        k: int,
        flt: SearchFilter,
        scanned: list[ScoredIds] | None = None,
    ) -> ScoredIds:
        """The ``k`` best; ``scanned`` keeps a first search's scan (as deep as a search
        widens), so that asking again for more to settle a tie builds no index."""
        if scanned:
            return scanned[0][:k]
        info = store.encoder_info()
        if info is None:
            raise _no_embeddings(store)
        require_same_encoder(info, EncoderInfo(self._encoder.name, int(query.shape[1])))
        deepest = k if scanned is None else max(k, _WIDEST)
        found = self._keeper.scan_once(store, query, deepest, flt)
        if found:  # a first search, answered with no index built
            if scanned is not None:
                scanned.append(found)
            return found[:k]
        index = self._keeper.ensure(store)
        if index is None:
            scored = store.vector_search(query, k, _for_store(store, flt))
        else:
            flt = _with_ids(store, flt)  # an in-memory index holds no metadata
            with search_threads():  # not fighting the model's threads for the cores
                scored = index.search(query, k, flt)
        # Only an empty answer needs to know whether anything is stored at all.
        if not scored and store.count() == 0:
            raise _no_embeddings(store)
        return scored


# A search widens (asking for twice as many) at most up to this many hits to settle a tie.
_WIDEST = 4 * MAX_TOP_K


#: Scores closer than this are equal: the same vector scores a few float32 roundings apart in
#: different places of an engine's computation.
TIE = 1e-6


def tie_order(scored: ScoredIds) -> ScoredIds:
    """``scored`` best first, equal scores (within :data:`TIE` of the best of their run) in the
    order of their prompt ids."""
    ranked = sorted(scored, key=lambda pair: -pair[1])
    ordered: ScoredIds = []
    start = 0
    while start < len(ranked):
        end = start + 1
        while end < len(ranked) and ranked[start][1] - ranked[end][1] <= TIE:
            end += 1
        ordered += sorted(ranked[start:end], key=lambda pair: pair[0])
        start = end
    return ordered


def best(fetch: Callable[[int], ScoredIds], k: int) -> ScoredIds:
    """The ``k`` best of an engine's ranking ``fetch(n)`` (its ``n`` best), best first, hits of
    equal score in the order of their prompt ids (:func:`tie_order`).

    It asks for one more than ``k``, and for twice as many while the last hit it got ties with
    the ``k``-th: which of several equal hits make the cut is then the same on every engine.
    """
    want = k + 1
    while True:
        found = fetch(want)
        if len(found) < want or want >= _WIDEST:
            break
        scores = sorted((score for _, score in found), reverse=True)
        if scores[-1] < scores[k - 1] - TIE:
            break
        want = min(2 * want, _WIDEST)
    return tie_order(found)[:k]


def _with_ids(store: Store, flt: SearchFilter) -> SearchFilter:
    """``flt`` with the ids of the prompts whose metadata passes its ``where``, found by the
    store (with the session and agent parts, which narrow what it reads)."""
    if flt.where is None or flt.prompt_ids is not None:
        return flt
    query = ListQuery(session_id=flt.session_id, agent_id=flt.agent_id, where=flt.where)
    return replace(flt, prompt_ids=frozenset(store.matching_ids(query)))


def _for_store(store: Store, flt: SearchFilter) -> SearchFilter:
    """``flt`` as the store's own searches take it: as it is when the store evaluates
    ``where`` itself, else with the ids that pass it."""
    return flt if store.searches_filter_metadata else _with_ids(store, flt)


def _no_embeddings(store: Store) -> NoEmbeddingsError:
    return NoEmbeddingsError(
        f"the store at {store.location} holds no embeddings yet; add interactions first"
    )


def hits(found: list[Interaction], scored: ScoredIds) -> list[SearchHit]:
    """The hits of ``scored`` pairs whose interaction is in ``found`` (others were deleted)."""
    by_id = {item.prompt_id: item for item in found}
    return [_hit(by_id[pid], score) for pid, score in scored if pid in by_id]


def _hit(item: Interaction, score: float) -> SearchHit:
    return SearchHit(
        id=item.prompt_id,
        score=score,
        prompt_text=item.prompt_text,
        response_text=item.response_text,
        response_id=item.response_id,
        agent_id=item.agent_id,
        session_id=item.session_id,
        timestamp=item.timestamp,
        metadata=item.metadata,
    )
