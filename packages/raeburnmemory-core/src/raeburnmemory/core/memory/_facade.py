"""MemoryGraph: record LLM interactions durably and find the prompts most like a new one.

The facade over the graph's parts: :mod:`._views` reads back what is stored, the
:class:`~._index_keeper.IndexKeeper` keeps the vector index in step with the store, and the
:class:`~._searcher.Searcher` ranks what a search asks for.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from raeburnmemory.core.checks import check_encoder_at_open
from raeburnmemory.core.encoders import (
    EMBED_MODEL_ENV,
    Encoder,
    default_encoder,
    resolve_encoder,
)
from raeburnmemory.core.errors import (
    ConfigurationError,
    InvalidInteractionError,
    NotFoundError,
)
from raeburnmemory.core.limits import check_id
from raeburnmemory.core.memory._encoding import encode, encoded_batches
from raeburnmemory.core.memory._expiry import Expired, parse_ttl
from raeburnmemory.core.memory._in_thread import in_thread
from raeburnmemory.core.memory._index_keeper import IndexKeeper
from raeburnmemory.core.memory._listing import MemoryListing
from raeburnmemory.core.memory._recording import MemoryWrites
from raeburnmemory.core.memory._searcher import Searcher, SearchRequest, hits
from raeburnmemory.core.memory._sessions import MemorySessions
from raeburnmemory.core.model import (
    RELATIONS,
    EncoderInfo,
    Interaction,
    Link,
    SearchHit,
)
from raeburnmemory.core.registry import load_storage_backend
from raeburnmemory.core.store import Matrix, ScoredIds, Store
from raeburnmemory.core.where import Where

__all__ = ["MemoryGraph"]

_DEFAULT: Any = object()


class MemoryGraph(MemoryWrites, MemoryListing, MemorySessions):
    """A persistent graph of prompts, responses, agents and sessions, searchable by similarity.

    Every write is durable when the call returns. Several MemoryGraphs (in threads or processes)
    on one store see each other's writes on their next call. Use it as a context manager, or call
    :meth:`close`.

    Args:
        db_path: Where the store lives; ``None`` uses ``$RAEBURN_DB_PATH`` or
            ``~/.raeburnbrain/graph.json`` (stores on a server take their address from options).
        embedding_model: A sentence-transformers model name (loaded on first use), an object
            with ``encode(list[str])``, or ``None`` / ``"none"`` for the built-in offline encoder.
            Default: ``$RAEBURN_EMBED_MODEL``, else the encoder that made the store's vectors,
            else ``all-MiniLM-L6-v2``.
        storage_backend: ``"json"`` (default), ``"sqlite"``, ``"postgres"`` or any registered store.
        vector_backend: ``"faiss"``, ``"numpy"``, ``"qdrant"``, or a store's in-database search
            (``"sqlite-vec"``, ``"pgvector"``); ``None`` picks the store's default, else FAISS when
            installed, else numpy.
        create: With ``False``, a store that does not exist raises ``StoreNotFoundError``.
        reindex: Re-embed every prompt while opening when the store was embedded by another
            encoder, instead of raising ``EmbeddingMismatchError``. With no model named, this
            is the default model; without ``reindex``, a store that has vectors keeps the
            encoder it recorded.
        ttl: How long an interaction recorded without ``expires_at`` lives, from when it is
            recorded (seconds or a ``timedelta``); default: until it is deleted.
        **options: Options of the store and vector backend (``fsync=True``, ``index="hnsw"``,
            ``dsn=...``, ``qdrant_url=...``); unknown names raise ``ConfigurationError``.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        embedding_model: Any = _DEFAULT,
        storage_backend: str = "json",
        vector_backend: str | None = None,
        *,
        create: bool = True,
        reindex: bool = False,
        ttl: float | timedelta | None = None,
        **options: Any,
    ) -> None:
        self._store = None
        self._closed = True
        self._lock = threading.RLock()
        self._graph = None
        self._ttl = parse_ttl(ttl)
        # Named by the caller or RAEBURN_EMBED_MODEL; otherwise a store with vectors keeps its own.
        named = embedding_model is not _DEFAULT or bool(os.environ.get(EMBED_MODEL_ENV, "").strip())
        self._encoder: Encoder = (
            default_encoder() if embedding_model is _DEFAULT else resolve_encoder(embedding_model)
        )
        if not isinstance(storage_backend, str):
            raise ConfigurationError("storage_backend must be a backend name such as 'json'")
        store_cls = load_storage_backend(storage_backend)
        self._keeper = IndexKeeper.choose(store_cls, storage_backend, vector_backend, options)
        self._store = store_cls.open(
            None if db_path is None else os.fspath(db_path),
            create=create,
            vector_backend=self._keeper.backend if self._keeper.native else None,
            options={k: v for k, v in options.items() if k in store_cls.option_names},
        )
        self._closed = False
        try:
            # reindex=True asks for the default (or named) model, whatever the store recorded.
            recorded = None if named or reindex else self._store.encoder_info()
            if recorded is not None:
                self._encoder = resolve_encoder(recorded.name)
            self._searcher = Searcher(self._encoder, self._keeper)
            self._check_encoder_at_open(reindex)
            self._keeper.open(self._store)
        except BaseException:
            self.close()
            raise

    # -- encoder ---------------------------------------------------------------------------------

    def _check_encoder_at_open(self, reindex: bool) -> None:
        """Refuse (or, with ``reindex``, re-embed) a store embedded by another encoder.

        A lazy model is not loaded when the store was made by it, or by the offline encoder the
        default model falls back to (the model may still fail to load: decide at first use);
        otherwise, and always with ``reindex``, the encoder actually in use is compared.
        """
        mismatch = check_encoder_at_open(
            self.store.encoder_info(), self._encoder, compare_loaded=reindex
        )
        if mismatch is None:
            return
        if not reindex:
            raise mismatch
        self.reindex()

    @property
    def encoder_name(self) -> str:
        """The name of the encoder in use (asking loads a lazy model)."""
        return self._encoder.name

    @property
    def encoder_info(self) -> EncoderInfo:
        """The name and dimension of the encoder in use (asking loads a lazy model)."""
        return EncoderInfo(self._encoder.name, self._encoder.dim)

    def _encode(self, texts: Sequence[str]) -> Matrix:
        return encode(self._encoder, texts)

    # -- writes ----------------------------------------------------------------------------------

    def link_prompts(self, source_id: str, target_id: str, relation: str = "related_to") -> None:
        """Record a directed edge between two stored prompts."""
        check_id(relation, "relation")
        if relation in RELATIONS:
            raise InvalidInteractionError(
                f"relation must be a name other than {', '.join(RELATIONS)}"
            )
        with self._lock:
            self._catch_up()
            self.store.link(Link(source_id, target_id, relation))
            self._graph = None

    def delete_interaction(self, prompt_id: str) -> None:
        """Remove a prompt with its response, vector and links, from memory and every file."""
        with self._lock:
            self._catch_up()
            if not self.store.delete([prompt_id]):
                raise NotFoundError(f"no prompt with id {prompt_id!r}")
            self._forget([prompt_id])

    def delete_session(self, session_id: str) -> list[str]:
        """Remove every interaction of a session; returns the prompt ids removed."""
        with self._lock:
            self._catch_up()
            members = [item.prompt_id for item in self.store.session(session_id)]
            if not members:
                raise NotFoundError(f"no session with id {session_id!r}")
            removed = self.store.delete(members)
            self._forget(removed)
            return removed

    @contextmanager
    def _direct_writes(self) -> Iterator[Store]:
        """The store, for writing vectors made elsewhere (an import); the index follows after."""
        with self._lock:
            self._catch_up()
            try:
                yield self.store
            finally:
                self._graph = None
                self._keeper.after_direct_writes(self.store)

    def _forget(self, prompt_ids: Sequence[str]) -> None:
        self._graph = None
        self._keeper.remove(prompt_ids)

    # -- search ----------------------------------------------------------------------------------

    def search(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        since: Any = None,
        until: Any = None,
        min_score: float | None = None,
        mode: str = "vector",
        vector_weight: float | None = None,
        where: Where | Mapping[str, Any] | None = None,
    ) -> list[SearchHit]:
        """The stored prompts most like ``text``, best first, with their interactions.

        ``mode="vector"`` ranks by cosine similarity of prompt embeddings (the score);
        ``"keyword"`` by the store's full-text rank of the words that carry weight (stop words
        left out); ``"hybrid"`` fuses both rankings' normalized scores, the vector's counting
        ``vector_weight`` (default :data:`~raeburnmemory.core.fusion.HYBRID_VECTOR_WEIGHT`)
        and the keyword's the rest (stores without keyword search raise
        ``UnsupportedSearchError``). Filters keep only one session, one agent, a time window,
        or the prompts whose metadata passes ``where`` (the language of
        :mod:`raeburnmemory.core.where`, such as ``{"user": "ana"}``; a malformed one raises
        ``InvalidFilterError`` naming its bad part), all combined; ``top_k`` hits still come
        back whenever that many pass, however few do. Hits of equal score come in the order
        of their prompt ids. ``min_score`` drops
        weaker hits. An empty or blank ``text``, or a ``top_k`` outside 1 to
        :data:`MAX_TOP_K`, raises ``ConfigurationError``.
        """
        request = SearchRequest.checked(
            text,
            top_k,
            session_id=session_id,
            agent_id=agent_id,
            since=since,
            until=until,
            min_score=min_score,
            mode=mode,
            weight=vector_weight,
            where=where,
        )
        with self._lock:
            scored = self._ranked(request)
            found = self.store.get_many([pid for pid, _ in scored])
        return hits(found, scored)

    def search_nowait(self, text: str, top_k: int = 5, **options: Any) -> list[SearchHit] | None:
        """:meth:`search` (same arguments), or ``None`` at once when it would have to wait first.

        It would wait for another thread using this graph, for other writers' changes to be
        read from the store, or for a store or vector backend that searches over the network
        or builds its index first; only ``mode="vector"`` answers. Meant for an event loop,
        which hands the search to a thread when this returns ``None``.
        """
        if not self._lock.acquire(blocking=False):
            return None
        try:
            mode = options.get("mode", "vector")
            if self._closed or not self._keeper.can_search_now(self.store, mode):
                return None
            return self.search(text, top_k, **options)
        finally:
            self._lock.release()

    def _ranked(self, request: SearchRequest) -> ScoredIds:
        """The ranked ``(prompt id, score)`` pairs of a search, up to date with other writers;
        expired prompts left out (the search asks for as many more as there are)."""
        query = self._searcher.query_vector(request)
        with self._lock:
            self._catch_up()
            expired = Expired(self.store)
            if not expired:
                return self._searcher.ranked(self.store, request, query)
            deeper = dataclasses.replace(request, k=request.k + len(expired))
            scored = self._searcher.ranked(self.store, deeper, query)
            return [hit for hit in scored if hit[0] not in expired.ids][: request.k]

    def get_similar_prompts(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        min_score: float | None = None,
        where: Where | Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Ids of the stored prompts most similar to ``text``, best first (``where``: a
        metadata filter, as for :meth:`search`)."""
        request = SearchRequest.checked(
            text,
            top_k,
            session_id=session_id,
            agent_id=agent_id,
            min_score=min_score,
            where=where,
        )
        scored = self._ranked(request)
        return [pid for pid, _ in scored]

    # -- upkeep ----------------------------------------------------------------------------------

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every prompt with the current encoder, in batches; returns how many.

        This is how a store moves to another model. ``progress(done, total)`` is called after
        each batch.
        """
        with self._lock:
            self._catch_up()
            items = [(item.prompt_id, item.prompt_text) for item in self.store.iter_interactions()]
            info = EncoderInfo(self._encoder.name, self._encoder.dim)
            self.store.replace_vectors(encoded_batches(self._encoder, items, progress), info)
            if progress is not None and not items:
                progress(0, 0)
            self._keeper.after_reindex(self.store, info)
            return len(items)

    def sync(self) -> None:
        """Catch up with other writers now, and reconcile a persistent vector index."""
        with self._lock:
            self._catch_up()
            self._keeper.reconcile(self.store)

    def close(self) -> None:
        """Release the store and the vector index. Calling it twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._keeper.close()
            finally:
                if self._store is not None:
                    self._store.close()

    def __enter__(self) -> MemoryGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:  # never raise from garbage collection
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.store.location
        return f"MemoryGraph({state!r}, vector_backend={self._keeper.backend!r})"

    # -- async twins -----------------------------------------------------------------------------

    async def add_interaction_async(self, *args: Any, **kwargs: Any) -> str:
        """:meth:`add_interaction` in a worker thread, so the event loop never blocks."""
        return await in_thread(self.add_interaction, *args, **kwargs)

    async def batch_add_async(
        self, interactions: Iterable[Mapping[str, Any] | Interaction], *, on_conflict: str = "error"
    ) -> list[str]:
        """:meth:`batch_add` in a worker thread."""
        return await in_thread(self.batch_add, list(interactions), on_conflict=on_conflict)

    async def get_similar_prompts_async(self, *args: Any, **kwargs: Any) -> list[str]:
        """:meth:`get_similar_prompts` in a worker thread."""
        return await in_thread(self.get_similar_prompts, *args, **kwargs)

    async def search_async(self, *args: Any, **kwargs: Any) -> list[SearchHit]:
        """:meth:`search` in a worker thread."""
        return await in_thread(self.search, *args, **kwargs)
