"""RaeburnMemoryStore: a LangGraph ``BaseStore`` (long-term memory) over a ``MemoryGraph``.

Items live in one session of the memory (the store's ``session_id``), laid out as
:mod:`raeburnmemory.langchain._store_layout` describes: each item is a prompt-only memory whose
text is the embedded text of its value, whose metadata holds its value's entries and its
namespace's labels, and whose timestamp is its creation time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

from raeburnmemory.core.errors import ConfigurationError, NoEmbeddingsError, NotFoundError
from raeburnmemory.core.model import MAX_TOP_K, Interaction, utc_now
from raeburnmemory.langchain._records import prompt_only
from raeburnmemory.langchain._store_layout import (
    item_id,
    item_metadata,
    item_of,
    item_text,
    matches_filter,
    namespace_of,
    plain_item,
    pushed_down,
)
from raeburnmemory.langchain.encoder import querying
from raeburnmemory.memory_graph import MemoryGraph

__all__ = ["DEFAULT_STORE_SESSION", "RaeburnMemoryStore"]

#: The session that holds a store's items unless it is given another.
DEFAULT_STORE_SESSION = "langgraph"
_PAGE = 500


class RaeburnMemoryStore(BaseStore):
    """LangGraph's long-term memory store, kept in a ``MemoryGraph``.

    ``put``, ``get``, ``delete``, ``search`` (by namespace prefix, with a ``filter`` on the
    value's entries and a natural-language ``query`` ranked by the memory's vectors) and
    ``list_namespaces``, with their async twins. Every item is embedded (the memory encodes
    with its own encoder: pass ``EmbeddingsEncoder(embeddings)`` to the memory to use
    LangChain embeddings); a search with a ``query`` returns cosine similarities as scores.

    Args:
        memory: The open memory graph; the store does not close it.
        session_id: The session holding this store's items.
        fields: The value's fields whose text is embedded (LangGraph's paths, such as
            ``"text"`` or ``"facts[*]"``); default ``"$"``, the whole value.
    """

    def __init__(
        self,
        memory: MemoryGraph,
        *,
        session_id: str = DEFAULT_STORE_SESSION,
        fields: Sequence[str] = ("$",),
    ) -> None:
        if isinstance(fields, str) or not fields:
            raise ConfigurationError("fields must be a non-empty list of paths, such as ['$']")
        self.memory = memory
        self.session_id = session_id
        self.fields = tuple(fields)

    # -- the operations --------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` one after the other and return their results in order."""
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(self._get(op.namespace, op.key))
            elif isinstance(op, PutOp):
                self._put(op)
                results.append(None)
            elif isinstance(op, SearchOp):
                results.append(self._search(op))
            elif isinstance(op, ListNamespacesOp):
                results.append(self._list_namespaces(op))
            else:
                raise ConfigurationError(f"unknown store operation {type(op).__name__}")
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """:meth:`batch` in a worker thread."""
        return await asyncio.to_thread(self.batch, list(ops))

    def _stored(self, namespace: Sequence[str], key: str) -> Interaction | None:
        try:
            memory = self.memory.get_interaction(item_id(self.session_id, namespace, key))
        except NotFoundError:
            return None
        return memory if memory.session_id == self.session_id else None

    def _get(self, namespace: tuple[str, ...], key: str) -> Item | None:
        stored = self._stored(namespace, key)
        return None if stored is None else plain_item(item_of(stored))

    def _put(self, op: PutOp) -> None:
        ident = item_id(self.session_id, op.namespace, op.key)
        stored = self._stored(op.namespace, op.key)
        if op.value is None:
            if stored is not None:
                with contextlib.suppress(NotFoundError):  # deleted meanwhile by another writer
                    self.memory.delete_interaction(ident)
            return
        fields = self.fields if op.index is None or op.index is False else op.index
        now = utc_now()
        prompt = {
            "text": item_text(op.value, fields),
            "namespace": list(op.namespace),
            "item_key": op.key,
            "updated_at": now.isoformat(),
        }
        metadata = item_metadata(op.namespace, op.value)
        if stored is not None:
            # Rewrites the value and attributes even when the text is the same (then the
            # vector is kept); the memory keeps its timestamp, the item's creation time.
            self.memory.update_interaction(ident, prompt_text=prompt, metadata=metadata)
            return
        item = prompt_only(ident, prompt, metadata, session_id=self.session_id, timestamp=now)
        self.memory.batch_add([item])

    # -- search ----------------------------------------------------------------------------------

    def _search(self, op: SearchOp) -> list[SearchItem]:
        wanted = op.offset + op.limit
        if wanted <= 0:
            return []
        where = pushed_down(op.namespace_prefix, op.filter)
        passing = self._ranked(op, where, wanted) if op.query else self._listed(op, where, wanted)
        return passing[op.offset : wanted]

    def _passes(self, op: SearchOp, memory: Interaction) -> bool:
        namespace = namespace_of(memory)
        prefix = tuple(op.namespace_prefix)
        return namespace[: len(prefix)] == prefix and matches_filter(
            item_of(memory).value, op.filter
        )

    def _listed(self, op: SearchOp, where: dict[str, Any], wanted: int) -> list[SearchItem]:
        """Items in the order they were created, up to ``wanted`` of them."""
        found: list[SearchItem] = []
        for memory in self._all(where):
            if self._passes(op, memory):
                found.append(item_of(memory))
                if len(found) == wanted:
                    break
        return found

    def _ranked(self, op: SearchOp, where: dict[str, Any], wanted: int) -> list[SearchItem]:
        """Items by similarity to the query, best first, up to ``wanted`` of them; the search
        goes deeper while the filter leaves too few."""
        assert op.query is not None
        depth = wanted
        # The filter is checked here too: pushed down, it only narrows the candidates.
        while True:
            try:
                with querying():
                    hits = self.memory.search(
                        op.query, min(depth, MAX_TOP_K), session_id=self.session_id, where=where
                    )
            except NoEmbeddingsError:
                return []
            found = []
            for hit in hits:
                memory = self.memory.get_interaction(hit.id)
                if self._passes(op, memory):
                    found.append(item_of(memory, hit.score))
            if len(found) >= wanted or len(hits) < depth or depth >= MAX_TOP_K:
                return found[:wanted]
            depth *= 4

    def _all(self, where: Mapping[str, Any] | None = None) -> Iterator[Interaction]:
        """Every memory of the store's session that passes ``where``, oldest first."""
        cursor = None
        while True:
            page = self.memory.interactions(
                session_id=self.session_id, where=where, limit=_PAGE, cursor=cursor
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # -- namespaces ------------------------------------------------------------------------------

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        namespaces = {namespace_of(memory) for memory in self._all()}
        if op.match_conditions:
            namespaces = {
                ns for ns in namespaces if all(_matches(c, ns) for c in op.match_conditions)
            }
        if op.max_depth is not None:
            namespaces = {ns[: op.max_depth] for ns in namespaces}
        return sorted(namespaces)[op.offset : op.offset + op.limit]


def _matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """Whether ``namespace`` starts (or ends) with the condition's path, ``*`` matching any
    label."""
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        part = namespace[: len(path)]
    elif condition.match_type == "suffix":
        part = namespace[len(namespace) - len(path) :]
    else:
        raise ConfigurationError(
            f"match_type must be 'prefix' or 'suffix', not {condition.match_type!r}"
        )
    return all(want in ("*", have) for have, want in zip(part, path, strict=True))
