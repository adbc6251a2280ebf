"""The JSON store's lookups answered from its state in memory: keyword search, the expired
prompts and the vectors of a few prompts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from raeburnmemory.core._keyword_index import KeywordIndex
from raeburnmemory.core.json_store._follower import JournalFollower
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.store import ScoredIds, StoredVectors

__all__ = ["JsonLookups"]


class JsonLookups:
    """The lookup methods of :class:`~raeburnmemory.core.json_store.JsonStore`."""

    _reading: Callable[[], AbstractContextManager[GraphState]]
    _locked: Callable[..., AbstractContextManager[bool]]
    _follower: JournalFollower
    _keywords: KeywordIndex | None

    def keyword_search(self, text: str, k: int, flt: SearchFilter) -> ScoredIds:
        """Prompts whose prompt or response text best matches ``text``, by BM25 (bm25s).

        The index is built in memory on the first keyword search and again after prompts were
        added (by this process or another); deleted prompts drop out of it at once.
        """
        with self._reading() as state:
            records = state.records
            last = state.last_seq  # deletes leave it alone: they are filtered out below
            index = self._keywords
            if index is None or index.version != (state, last):
                index = self._keywords = None  # let the old one go before building anew
                index = KeywordIndex(
                    (state, last),
                    (
                        (record.prompt_id, record.prompt["text"], record.response_text)
                        for record in state.records_with_nodes()
                    ),
                )
                self._keywords = index
            passes = None
            ids = flt.prompt_ids
            if ids is not None:
                passes = lambda pid: pid in ids and flt.matches(records[pid].payload())  # noqa: E731
            elif not flt.is_empty:
                passes = lambda pid: flt.matches(records[pid].payload())  # noqa: E731
            return index.search(text, k, records, passes)

    def expired_ids(self, now: datetime) -> list[str]:
        """The prompt ids whose ``expires_at`` is ``now`` or earlier (from memory, no scan of
        the records that never expire)."""
        with self._reading() as state:
            return state.expired_ids(now)

    def vectors_of(self, prompt_ids: Sequence[str]) -> StoredVectors:
        """The stored vectors of those of ``prompt_ids`` that have one, read where each lies."""
        with self._reading() as state, self._locked(write=False):
            view = self._follower
            ids = [pid for pid in dict.fromkeys(prompt_ids) if pid in view.rows.locations]
            if not ids:
                return StoredVectors()
            matrix = view.rows.read(view.journal, ids)
            return StoredVectors(ids, matrix, state.payloads(ids))
