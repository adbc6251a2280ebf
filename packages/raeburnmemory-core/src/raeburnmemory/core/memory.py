"""MemoryGraph: record LLM interactions durably and find the prompts most like a new one."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from raeburnmemory.core._export_file import atomic_text_file, refuse_store_file
from raeburnmemory.core._threads import search_threads
from raeburnmemory.core.encoders import (
    EMBED_MODEL_ENV,
    Encoder,
    SentenceTransformerEncoder,
    canonical_model_name,
    default_encoder,
    resolve_encoder,
    same_encoder,
)
from raeburnmemory.core.errors import (
    ConfigurationError,
    EmbeddingMismatchError,
    InvalidInteractionError,
    NoEmbeddingsError,
    NotFoundError,
    StoreError,
)
from raeburnmemory.core.fusion import candidate_depth, fuse, vector_weight
from raeburnmemory.core.graph import build_graph, iter_node_link_json, node_link_data, to_networkx
from raeburnmemory.core.limits import check_id
from raeburnmemory.core.model import (
    MAX_TOP_K,
    RELATIONS,
    Agent,
    EncoderInfo,
    Interaction,
    Link,
    SearchFilter,
    SearchHit,
    parse_timestamp,
)
from raeburnmemory.core.records import interaction_from_mapping, make_interaction
from raeburnmemory.core.registry import load_storage_backend, load_vector_backend
from raeburnmemory.core.store import Matrix, ScoredIds, Store
from raeburnmemory.core.vectors import VectorIndex

__all__ = ["MAX_TOP_K", "SEARCH_MODES", "MemoryGraph"]

#: ``search(mode=...)`` values.
SEARCH_MODES = ("vector", "keyword", "hybrid")
#: Interactions encoded and written together by ``batch_add``.
BATCH_CHUNK = 2048

_DEFAULT: Any = object()
# Vector backends that run inside a database, and the store that has them.
_IN_DATABASE = {"sqlite-vec": "sqlite", "pgvector": "postgres"}


def _default_vector_backend() -> str:
    return "faiss" if importlib.util.find_spec("faiss") is not None else "numpy"


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


class MemoryGraph:
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
        **options: Any,
    ) -> None:
        self._store: Store | None = None
        self._closed = True
        self._lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._graph: Any = None
        # Named by the caller or RAEBURN_EMBED_MODEL; otherwise a store with vectors keeps its own.
        named = embedding_model is not _DEFAULT or bool(os.environ.get(EMBED_MODEL_ENV, "").strip())
        self._encoder: Encoder = (
            default_encoder() if embedding_model is _DEFAULT else resolve_encoder(embedding_model)
        )
        if not isinstance(storage_backend, str):
            raise ConfigurationError("storage_backend must be a backend name such as 'json'")
        store_cls = load_storage_backend(storage_backend)
        backend = vector_backend or store_cls.default_vector_backend or _default_vector_backend()
        self._native = backend in store_cls.native_vector_backends
        if not self._native and backend in _IN_DATABASE:
            raise ConfigurationError(
                f"the {backend} vector backend runs inside a database: use "
                f"storage_backend={_IN_DATABASE[backend]!r} with it"
            )
        self._index_cls = None if self._native else load_vector_backend(backend)
        self._vector_backend = backend
        index_options = self._index_cls.option_names if self._index_cls else frozenset()
        unknown = sorted(set(options) - store_cls.option_names - index_options)
        if unknown:
            known = ", ".join(sorted(store_cls.option_names | index_options)) or "none"
            raise ConfigurationError(
                f"unknown option(s) {', '.join(unknown)} for the {storage_backend} store with "
                f"{backend} vectors; known options: {known}"
            )
        self._index_options = {k: v for k, v in options.items() if k in index_options}
        self._store = store_cls.open(
            None if db_path is None else os.fspath(db_path),
            create=create,
            vector_backend=backend if self._native else None,
            options={k: v for k, v in options.items() if k in store_cls.option_names},
        )
        self._closed = False
        try:
            # reindex=True asks for the default (or named) model, whatever the store recorded.
            recorded = None if named or reindex else self._store.encoder_info()
            if recorded is not None:
                self._encoder = resolve_encoder(recorded.name)
            self._check_encoder_at_open(reindex)
            if self._index_cls is not None and self._index_cls.persistent:
                info = self._store.encoder_info()
                if info is not None:
                    self._index = self._create_index(info.dim)
                    self._index.sync(self._store)
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
        info = self.store.encoder_info()
        if info is None:
            return
        encoder = self._encoder
        if isinstance(encoder, SentenceTransformerEncoder) and not reindex:
            if canonical_model_name(info.name) == encoder.requested:
                return
            if not encoder.named and info.name == encoder.fallback_name:
                return
        active = EncoderInfo(encoder.name, encoder.dim)  # loads a lazy model
        if same_encoder(info, active):
            return
        if not reindex:
            raise EmbeddingMismatchError(info.name, info.dim, active.name, active.dim)
        self.reindex()

    def _check_encoder(self) -> EncoderInfo:
        """The active encoder's record, checked against the store's (recording it if new)."""
        active = EncoderInfo(self._encoder.name, self._encoder.dim)
        stored = self.store.encoder_info()
        if stored is None:
            self.store.set_encoder_info(active)
        elif not same_encoder(stored, active):
            raise EmbeddingMismatchError(stored.name, stored.dim, active.name, active.dim)
        return active

    @property
    def encoder_name(self) -> str:
        """The name of the encoder in use (asking loads a lazy model)."""
        return self._encoder.name

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store this graph reads and writes."""
        if self._closed or self._store is None:
            raise StoreError("this MemoryGraph is closed")
        return self._store

    @property
    def location(self) -> str:
        """Where the store lives (a path, or a URL without its password)."""
        return self.store.location

    @property
    def storage_backend(self) -> str:
        """The name of the store's backend."""
        return self.store.name

    @property
    def vector_backend(self) -> str:
        """The name of the vector backend in use."""
        return self._vector_backend

    def _create_index(self, dim: int) -> VectorIndex:
        assert self._index_cls is not None
        return self._index_cls.create(dim=dim, store=self.store, options=self._index_options)

    def _ensure_index(self) -> VectorIndex | None:
        """The vector index, built from the store on first need (``None``: search is native)."""
        if self._native:
            return None
        if self._index is None:
            info = self.store.encoder_info()
            if info is None:
                return None
            index = self._create_index(info.dim)
            if index.persistent:
                index.sync(self.store)
            else:
                stored = self.store.load_vectors()
                if len(stored):
                    index.load(stored)
            self._index = index
        return self._index

    def _catch_up(self) -> None:
        """Bring this object up to date with other writers of the store."""
        changes = self.store.refresh()
        if not changes:
            return
        self._graph = None
        index = self._index
        if index is None or index.persistent:
            return
        if changes.reset:
            index.close()
            self._index = None
            return
        if changes.removed:
            index.remove(changes.removed)
        if changes.added.ids:
            added = changes.added
            index.add(added.ids, added.vectors, added.payloads)

    def _encode(self, texts: Sequence[str]) -> Matrix:
        vectors = self._encoder.encode(list(texts))
        return np.ascontiguousarray(vectors, dtype=np.float32)

    # -- writes ----------------------------------------------------------------------------------

    def _encode_in_chunks(self, items: Sequence[Interaction]) -> Matrix:
        """The prompt vectors of ``items``, encoded ``BATCH_CHUNK`` at a time into one matrix."""
        first = self._encode([item.prompt_text for item in items[:BATCH_CHUNK]])
        if len(items) <= BATCH_CHUNK:
            return first
        vectors = np.empty((len(items), first.shape[1]), dtype=np.float32)
        vectors[: len(first)] = first
        for start in range(BATCH_CHUNK, len(items), BATCH_CHUNK):
            part = items[start : start + BATCH_CHUNK]
            vectors[start : start + len(part)] = self._encode([item.prompt_text for item in part])
        return vectors

    def _write(self, items: Sequence[Interaction]) -> list[str]:
        """Write ``items`` with one call of the store, so that the whole batch is all or nothing."""
        vectors = self._encode_in_chunks(items)
        with self._lock:
            self._catch_up()
            self._check_encoder()
            added = self.store.add(items, vectors)
            if added:
                self._graph = None
                # An in-memory index built now comes from the store, these included; a persistent
                # one only adds ids it lacks, so it still needs these vectors.
                built_now = self._index is None
                index = self._ensure_index()
                if index is not None and not (built_now and not index.persistent):
                    fresh = set(added)
                    rows = [i for i, item in enumerate(items) if item.prompt_id in fresh]
                    picked = [items[i] for i in rows]
                    index.add(
                        [item.prompt_id for item in picked],
                        vectors[rows],
                        [item.payload for item in picked],
                    )
            return added

    def add_interaction(
        self,
        prompt: Mapping[str, Any],
        response: Mapping[str, Any],
        agent: Mapping[str, Any],
        session_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        timestamp: Any = None,
    ) -> str:
        """Record one interaction durably and return its prompt id.

        ``prompt`` and ``response`` are dicts with ``id`` and ``text``; ``agent`` has ``id`` and
        optionally ``name``; other keys are kept as node attributes. ``timestamp`` (datetime, ISO
        string or POSIX seconds) defaults to now. Adding a prompt id again with the same content
        does nothing; with different content it raises ``ConflictError``.
        """
        item = make_interaction(
            prompt, response, agent, session_id, metadata=metadata, timestamp=timestamp
        )
        self._write([item])
        return item.prompt_id

    def batch_add(self, interactions: Iterable[Mapping[str, Any] | Interaction]) -> list[str]:
        """Record many interactions durably, all or nothing; returns the prompt ids newly added.

        Each item is a dict of :meth:`add_interaction`'s arguments (``prompt``, ``response``,
        ``agent``, ``session_id``, optional ``metadata`` and ``timestamp``) or an ``Interaction``.
        Every item is checked before anything is written: an invalid item
        (``InvalidInteractionError``), or a prompt id stored, or given earlier in the batch,
        with other content (``ConflictError``), and nothing is written. Items stored already
        with the same content are skipped. Prompts are encoded 2,048 at a time, and
        the whole batch is then written by one call of the store (its vectors are held in
        memory until then). A store that fails after it began writing and cannot undo it
        raises ``PartialWriteError``, whose ``written_ids`` lists what was stored.
        """
        items = [interaction_from_mapping(item, n) for n, item in enumerate(interactions)]
        if not items:
            return []
        return self._write(items)

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

    def _forget(self, prompt_ids: Sequence[str]) -> None:
        self._graph = None
        if self._index is not None:
            self._index.remove(prompt_ids)

    # -- reads -----------------------------------------------------------------------------------

    def get_interaction(self, prompt_id: str) -> Interaction:
        """The interaction of a prompt (``NotFoundError`` if there is none)."""
        with self._lock:
            self._catch_up()
            item = self.store.get(prompt_id)
        if item is None:
            raise NotFoundError(f"no prompt with id {prompt_id!r}")
        return item

    def get_session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (``NotFoundError`` if the session is unknown)."""
        with self._lock:
            self._catch_up()
            items = self.store.session(session_id)
        if not items:
            raise NotFoundError(f"no session with id {session_id!r}")
        return items

    def sessions(self) -> list[str]:
        """Every session id, in order of first appearance."""
        with self._lock:
            self._catch_up()
            return self.store.sessions()

    def agents(self) -> list[Agent]:
        """Every agent with its latest name."""
        with self._lock:
            self._catch_up()
            return self.store.agents()

    def stats(self) -> dict[str, Any]:
        """What the memory holds and how it is configured."""
        with self._lock:
            self._catch_up()
            counts: dict[str, Any] = dict(self.store.stats())
            info = self.store.encoder_info()
            counts["vectors"] = counts["interactions"] if info is not None else 0
            counts["encoder"] = info.name if info else None
            counts["dim"] = info.dim if info else None
            counts["storage_backend"] = self.store.name
            counts["vector_backend"] = self._vector_backend
            counts["location"] = self.store.location
            return counts

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
    ) -> list[SearchHit]:
        """The stored prompts most like ``text``, best first, with their interactions.

        ``mode="vector"`` ranks by cosine similarity of prompt embeddings (the score);
        ``"keyword"`` by the store's full-text rank of the words that carry weight (stop words
        left out); ``"hybrid"`` fuses both rankings' normalized scores, the vector's counting
        ``vector_weight`` (default :data:`~raeburnmemory.core.fusion.HYBRID_VECTOR_WEIGHT`)
        and the keyword's the rest (stores without keyword search raise
        ``UnsupportedSearchError``). Filters keep only one session, one agent, or a time
        window, and ``top_k`` hits still come back when that many pass. ``min_score`` drops
        weaker hits. An empty or blank ``text``, or a ``top_k`` outside 1 to
        :data:`MAX_TOP_K`, raises ``ConfigurationError``.
        """
        weight = _checked_weight(vector_weight, mode)
        with self._lock:
            scored = self._ranked(
                text, top_k, session_id, agent_id, since, until, min_score, mode, weight
            )
            found = {item.prompt_id: item for item in self.store.get_many([p for p, _ in scored])}
        return [_hit(found[pid], score) for pid, score in scored if pid in found]

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
            index = self._index
            if (
                self._closed
                or self._native
                or index is None
                or index.persistent
                or options.get("mode", "vector") != "vector"
                or self.store.catching_up_may_wait()
            ):
                return None
            return self.search(text, top_k, **options)
        finally:
            self._lock.release()

    def _ranked(
        self,
        text: str,
        top_k: int,
        session_id: str | None,
        agent_id: str | None,
        since: Any,
        until: Any,
        min_score: float | None,
        mode: str,
        weight: float | None = None,
    ) -> ScoredIds:
        """The ranked ``(prompt id, score)`` pairs of a search, up to date with other writers."""
        text = _query_text(text)
        k = _top_k(top_k)
        if mode not in SEARCH_MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        flt = SearchFilter(session_id, agent_id, _moment(since, "since"), _moment(until, "until"))
        query = self._encode([text]) if mode != "keyword" else None
        with self._lock:
            self._catch_up()
            if mode == "keyword":
                scored = self.store.keyword_search(text, k, flt)
            elif mode == "vector":
                assert query is not None
                scored = self._vector_search(query, k, flt)
            else:
                assert query is not None
                depth = candidate_depth(k)
                by_vector = self._vector_search(query, depth, flt)
                by_keyword = self.store.keyword_search(text, depth, flt)
                scored = fuse(by_vector, by_keyword, vector_weight(weight))[:k]
        if min_score is not None:
            scored = [(pid, score) for pid, score in scored if score >= min_score]
        return scored

    def _vector_search(self, query: Matrix, k: int, flt: SearchFilter) -> ScoredIds:
        info = self.store.encoder_info()
        if info is None:
            raise self._no_embeddings()
        active = EncoderInfo(self._encoder.name, int(query.shape[1]))
        if not same_encoder(info, active):
            raise EmbeddingMismatchError(info.name, info.dim, active.name, active.dim)
        index = self._ensure_index()
        if index is None:
            scored = self.store.vector_search(query, k, flt)
        else:
            with search_threads():  # not fighting the model's threads for the cores
                scored = index.search(query, k, flt)
        # Only an empty answer needs to know whether anything is stored at all.
        if not scored and self.store.count() == 0:
            raise self._no_embeddings()
        return scored

    def _no_embeddings(self) -> NoEmbeddingsError:
        return NoEmbeddingsError(
            f"the store at {self.store.location} holds no embeddings yet; add interactions first"
        )

    def get_similar_prompts(
        self,
        text: str,
        top_k: int = 5,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        min_score: float | None = None,
    ) -> list[str]:
        """Ids of the stored prompts most similar to ``text``, best first."""
        scored = self._ranked(text, top_k, session_id, agent_id, None, None, min_score, "vector")
        return [pid for pid, _ in scored]

    # -- the graph -------------------------------------------------------------------------------

    def _graph_attrs(self) -> dict[str, Any]:
        info = self.store.encoder_info()
        return {
            "name": "raeburnmemory",
            "storage_backend": self.store.name,
            "encoder": None if info is None else {"name": info.name, "dim": info.dim},
        }

    def _graph_parts(self, session_id: str | None) -> tuple[list[Interaction], list[Link]]:
        if session_id is None:
            return list(self.store.iter_interactions()), self.store.links()
        items = self.store.session(session_id)
        if not items:
            raise NotFoundError(f"no session with id {session_id!r}")
        return items, self.store.links()

    def node_link_data(self, session_id: str | None = None) -> dict[str, Any]:
        """The node-link JSON of the whole graph (or of one session)."""
        with self._lock:
            self._catch_up()
            items, links = self._graph_parts(session_id)
            return node_link_data(items, links, self._graph_attrs())

    def iter_node_link_json(self, session_id: str | None = None) -> Iterator[str]:
        """:meth:`node_link_data` as JSON text in chunks, for streaming large graphs."""
        with self._lock:
            self._catch_up()
            items, links = self._graph_parts(session_id)
            attrs = self._graph_attrs()
        return iter_node_link_json(items, links, attrs)

    @property
    def graph(self) -> Any:
        """The memory as a ``networkx.DiGraph`` (or a built-in stand-in without networkx).

        Node keys are ``"prompt:<id>"``, ``"response:<id>"``, ``"agent:<id>"`` and
        ``"session:<id>"``; edges carry a ``relation``. Rebuilt after any change.
        """
        with self._lock:
            self._catch_up()
            if self._graph is None:
                self._graph = build_graph(self.node_link_data())
            return self._graph

    def to_networkx(self) -> Any:
        """A fresh ``networkx.DiGraph`` of the memory (needs networkx)."""
        return to_networkx(self.node_link_data())

    # -- upkeep ----------------------------------------------------------------------------------

    def own_files(self) -> list[Path]:
        """Every local file and folder of the store and of its vector index (none on a server).

        Existing or not, temporary names included: the snapshot, journal and lock of a JSON
        store, a SQLite database with its ``-wal`` and ``-shm`` files, the HNSW graph's copy, a
        local Qdrant folder. :meth:`export` refuses to write over any of them.
        """
        with self._lock:
            files = list(self.store.own_files())
            if self._index_cls is not None:
                files.extend(self._index_cls.own_files(self.store, self._index_options))
            return files

    def check_export_target(self, path: str | os.PathLike[str]) -> Path:
        """``path`` as a ``Path``, unless it names one of :meth:`own_files`.

        Symbolic links, ``..`` and hard links are seen through. Raises ``ExportTargetError``.
        """
        target = Path(path).expanduser()
        refuse_store_file(target, self.own_files(), self.store.location)
        return target

    @contextlib.contextmanager
    def open_export(self, path: str | os.PathLike[str]) -> Iterator[IO[str]]:
        """A text file to write an export to, at ``path``; it appears there whole or not at all.

        It is written under a temporary name in the same folder, forced to disk and renamed
        over ``path``, replacing any file there (a symbolic link at ``path`` is replaced itself;
        what it points to is not written). One of the store's own files raises
        ``ExportTargetError`` and nothing is written; a failure to write (a full disk) raises
        ``StoreError`` naming the file, and no temporary file is left.
        """
        target = self.check_export_target(path)
        with atomic_text_file(target) as handle:
            yield handle

    def export(self, path: str | os.PathLike[str] | None = None) -> None:
        """Make the store compact and durable, and build what the vector index defers (an HNSW
        graph); with ``path``, also write the node-link JSON there.

        The file is written as :meth:`open_export` writes: whole or not at all, replacing a
        file at ``path``. A ``path`` that is one of the store's own files (:meth:`own_files`)
        raises ``ExportTargetError`` before anything is done.
        """
        with self._lock:
            if path is not None:
                self.check_export_target(path)
            self._catch_up()
            self.store.compact()
            if self._index is not None:
                self._index.optimize()
            if path is None:
                return
            with self.open_export(path) as out:
                for chunk in self.iter_node_link_json():
                    out.write(chunk)

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every prompt with the current encoder, in batches; returns how many.

        This is how a store moves to another model. ``progress(done, total)`` is called after
        each batch.
        """
        with self._lock:
            self._catch_up()
            items = [(item.prompt_id, item.prompt_text) for item in self.store.iter_interactions()]
            total = len(items)
            info = EncoderInfo(self._encoder.name, self._encoder.dim)

            def batches() -> Iterator[tuple[list[str], Matrix]]:
                for start in range(0, total, BATCH_CHUNK):
                    part = items[start : start + BATCH_CHUNK]
                    yield [pid for pid, _ in part], self._encode([text for _, text in part])
                    if progress is not None:
                        progress(min(start + BATCH_CHUNK, total), total)

            self.store.replace_vectors(batches(), info)
            if progress is not None and total == 0:
                progress(0, 0)
            if self._index is not None:
                if self._index.persistent and self._index.dim == info.dim:
                    self._index.clear()
                    self._index.sync(self.store)
                else:
                    self._index.clear()  # its vectors are the old model's: nothing to keep
                    self._index.close()
                    self._index = None
                    self._ensure_index()
            if self._index is not None:
                self._index.optimize()
            return total

    def sync(self) -> None:
        """Catch up with other writers now, and reconcile a persistent vector index."""
        with self._lock:
            self._catch_up()
            if self._index is not None and self._index.persistent:
                self._index.sync(self.store)

    def close(self) -> None:
        """Release the store and the vector index. Calling it twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._index is not None:
                    self._index.close()
            finally:
                self._index = None
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
        return f"MemoryGraph({state!r}, vector_backend={self._vector_backend!r})"

    # -- async twins -----------------------------------------------------------------------------

    async def add_interaction_async(self, *args: Any, **kwargs: Any) -> str:
        """:meth:`add_interaction` in a worker thread, so the event loop never blocks."""
        return await asyncio.to_thread(self.add_interaction, *args, **kwargs)

    async def batch_add_async(
        self, interactions: Iterable[Mapping[str, Any] | Interaction]
    ) -> list[str]:
        """:meth:`batch_add` in a worker thread."""
        return await asyncio.to_thread(self.batch_add, list(interactions))

    async def get_similar_prompts_async(self, *args: Any, **kwargs: Any) -> list[str]:
        """:meth:`get_similar_prompts` in a worker thread."""
        return await asyncio.to_thread(self.get_similar_prompts, *args, **kwargs)

    async def search_async(self, *args: Any, **kwargs: Any) -> list[SearchHit]:
        """:meth:`search` in a worker thread."""
        return await asyncio.to_thread(self.search, *args, **kwargs)


def _checked_weight(weight: float | None, mode: str) -> float | None:
    """``vector_weight`` checked; it is only for ``mode="hybrid"``."""
    if weight is None:
        return None
    if mode != "hybrid":
        raise ConfigurationError("vector_weight is only for mode='hybrid'")
    return vector_weight(weight)


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
