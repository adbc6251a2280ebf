"""The JSON store's keyword search: a BM25 index (bm25s) over prompt and response text.

The index lives in memory beside the store's records and is built on the first keyword search.
It knows which version of the records it was built from: prompts deleted since (here or by
another process, seen when the store catches up) are left out of the results at once, and any
prompt added since makes the next keyword search build the index again. Words are those of
:mod:`raeburnmemory.core.keywords`, stop words left out, so the query and the index agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from raeburnmemory.core.keywords import keyword_terms, stop_words, words
from raeburnmemory.core.store import ScoredIds

__all__ = ["KeywordIndex"]


def _document(prompt_text: str, response_text: str | None) -> list[str]:
    drop = stop_words()
    text = prompt_text if response_text is None else f"{prompt_text}\n{response_text}"
    return [word for word in words(text) if word not in drop]


class KeywordIndex:
    """BM25 scores (Lucene's variant, k1 = 1.5, b = 0.75) of one version of a store's prompts.

    ``version`` is the store's own tag of the records it was built from; ``documents`` gives
    ``(prompt id, prompt text, response text or None)`` for each.
    """

    def __init__(self, version: Any, documents: Iterable[tuple[str, str, str | None]]) -> None:
        import bm25s  # type: ignore[import-untyped]

        self.version = version
        self._ids: list[str] = []
        corpus: list[list[str]] = []
        for pid, prompt_text, response_text in documents:
            self._ids.append(pid)
            corpus.append(_document(prompt_text, response_text))
        self._row = {pid: row for row, pid in enumerate(self._ids)}
        self._model: Any = None
        if corpus:
            self._model = bm25s.BM25()
            self._model.index(corpus, show_progress=False)

    @property
    def ids(self) -> list[str]:
        """The prompt ids indexed, row by row."""
        return self._ids

    def search(
        self,
        text: str,
        k: int,
        live: Mapping[str, Any],
        passes: Callable[[str], bool] | None = None,
    ) -> ScoredIds:
        """The ``k`` best prompts for ``text`` still in ``live`` and passing ``passes``."""
        if self._model is None or k <= 0:
            return []
        vocabulary = self._model.vocab_dict
        terms = [term for term in keyword_terms(text) if term in vocabulary]
        if not terms:
            return []
        scores = np.asarray(self._model.get_scores(terms), dtype=np.float64)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) == 0:
            return []
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        found: ScoredIds = []
        for row in order.tolist():
            pid = self._ids[row]
            if pid not in live or (passes is not None and not passes(pid)):
                continue
            found.append((pid, float(scores[row])))
            if len(found) >= k:
                break
        return found
