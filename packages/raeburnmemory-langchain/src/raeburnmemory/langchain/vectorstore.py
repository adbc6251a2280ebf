"""RaeburnMemoryVectorStore: a LangChain ``VectorStore`` over a ``MemoryGraph``.

Each document is a prompt-only memory of one session of the memory (the store's
``collection``): ``Document.id`` is the prompt id, ``page_content`` the prompt text and
``metadata`` the memory's metadata; a search's ``filter`` is a metadata filter (``where=``, the
language of :mod:`raeburnmemory.core.where`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    NoEmbeddingsError,
    NotFoundError,
)
from raeburnmemory.core.ids import new_id
from raeburnmemory.core.model import SearchHit
from raeburnmemory.langchain._records import document_of, prompt_only
from raeburnmemory.langchain.encoder import EmbeddingsEncoder, embeddings_name, querying
from raeburnmemory.memory_graph import MemoryGraph

__all__ = ["DEFAULT_COLLECTION", "RaeburnMemoryVectorStore"]

#: The session that holds a vector store's documents unless it is given another.
DEFAULT_COLLECTION = "documents"


class RaeburnMemoryVectorStore(VectorStore):
    """A LangChain vector store whose documents are memories of a ``MemoryGraph``.

    The memory must encode with ``embedding`` (open it with
    ``embedding_model=EmbeddingsEncoder(embedding)``, or let :meth:`open` do it): the store
    records which embeddings made its vectors and refuses to mix in others.

    Args:
        memory: The open memory graph; the vector store does not close it.
        embedding: The LangChain embeddings the memory encodes with.
        collection: The session holding this store's documents; several vector stores share a
            memory by using different collections.
        agent_id: The agent recorded with each document (default: the memory's default agent).
    """

    def __init__(
        self,
        memory: MemoryGraph,
        embedding: Embeddings,
        *,
        collection: str = DEFAULT_COLLECTION,
        agent_id: str | None = None,
    ) -> None:
        expected = embeddings_name(embedding)
        if memory.encoder_name != expected:
            raise ConfigurationError(
                f"the memory encodes with {memory.encoder_name!r}, not with the embeddings "
                f"given ({expected!r}): open it with embedding_model=EmbeddingsEncoder(embedding)"
            )
        self.memory = memory
        self.collection = collection
        self.agent_id = agent_id
        self._embedding = embedding
        self._owned = False

    @classmethod
    def open(
        cls,
        embedding: Embeddings,
        db_path: str | os.PathLike[str] | None = None,
        *,
        collection: str = DEFAULT_COLLECTION,
        agent_id: str | None = None,
        **memory_options: Any,
    ) -> RaeburnMemoryVectorStore:
        """Open the memory at ``db_path`` encoding with ``embedding``; :meth:`close` closes it.

        ``memory_options`` go to ``MemoryGraph`` (``storage_backend="sqlite"``, ...).
        """
        memory = MemoryGraph(
            db_path, embedding_model=EmbeddingsEncoder(embedding), **memory_options
        )
        try:
            store = cls(memory, embedding, collection=collection, agent_id=agent_id)
        except BaseException:
            memory.close()
            raise
        store._owned = True
        return store

    def close(self) -> None:
        """Close the memory if :meth:`open` opened it (a memory you passed in stays open)."""
        if self._owned:
            self.memory.close()

    def __enter__(self) -> RaeburnMemoryVectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embeddings(self) -> Embeddings:
        """The embeddings the memory encodes with."""
        return self._embedding

    # -- writes ----------------------------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: Sequence[str | None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Store each text as a memory and return their ids.

        A missing id is generated. New documents are written together, all or nothing; a
        document whose id is stored already in this collection then replaces it (its metadata
        replaced, its text re-embedded when it changed). An id that is a memory of another
        session raises ``ConflictError`` before anything is written.
        """
        texts = list(texts)
        metadata_list: Sequence[Mapping[str, Any]] = metadatas or [{}] * len(texts)
        given: Sequence[str | None] = ids or [None] * len(texts)
        if len(metadata_list) != len(texts) or len(given) != len(texts):
            raise ConfigurationError(
                f"got {len(texts)} texts, {len(metadata_list)} metadatas and {len(given)} ids: "
                "give one of each per text"
            )
        stored = self._stored_ids([ident for ident in given if ident is not None])
        chosen = [new_id() if ident is None else ident for ident in given]
        items = [
            prompt_only(ident, text, metadata, session_id=self.collection, agent_id=self.agent_id)
            for ident, text, metadata in zip(chosen, texts, metadata_list, strict=True)
            if ident not in stored
        ]
        if items:
            self.memory.batch_add(items)
        for ident, text, metadata in zip(chosen, texts, metadata_list, strict=True):
            if ident in stored:  # re-embedded only when its text changed
                self.memory.update_interaction(ident, prompt_text=text, metadata=dict(metadata))
        return chosen

    def _stored_ids(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` stored in this collection; ``ConflictError`` when one is a memory
        of another session, which replacing it would take from its owner."""
        stored = set()
        for ident in ids:
            try:
                item = self.memory.get_interaction(ident)
            except NotFoundError:
                continue
            if item.session_id != self.collection:
                raise ConflictError(
                    f"id {ident!r} is a memory of the session {item.session_id!r}, not of "
                    f"this collection ({self.collection!r}); give the document another id"
                )
            stored.add(ident)
        return stored

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete the documents of ``ids`` from this collection; unknown ids are ignored.

        Returns whether anything was deleted.
        """
        if ids is None:
            raise ConfigurationError("give the ids of the documents to delete")
        deleted = False
        for document in self.get_by_ids(ids):
            assert document.id is not None
            try:
                self.memory.delete_interaction(document.id)
            except NotFoundError:  # deleted meanwhile by another writer
                continue
            deleted = True
        return deleted

    # -- reads -----------------------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents of this collection among ``ids``, in that order (unknown ids left out)."""
        found = []
        for ident in dict.fromkeys(ids):
            try:
                item = self.memory.get_interaction(ident)
            except NotFoundError:
                continue
            if item.session_id == self.collection:
                found.append(document_of(item))
        return found

    def _hits(self, query: str, k: int, filter: Mapping[str, Any] | None) -> list[SearchHit]:
        try:
            with querying():
                return self.memory.search(query, k, session_id=self.collection, where=filter)
        except NoEmbeddingsError:
            return []

    def similarity_search_with_score(
        self,
        query: str,
        k: int = 4,
        filter: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents most like ``query`` with their cosine similarity, best first.

        ``filter`` keeps only documents whose metadata passes it (``{"source": "faq"}``,
        ``{"year": {"$gte": 2020}}``, ...).
        """
        return [(document_of(hit), hit.score) for hit in self._hits(query, k, filter)]

    def similarity_search(
        self,
        query: str,
        k: int = 4,
        filter: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents most like ``query``, best first (``filter`` as for
        :meth:`similarity_search_with_score`)."""
        return [document_of(hit) for hit in self._hits(query, k, filter)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Cosine similarity (-1 to 1) to a relevance from 0 to 1."""
        return _relevance

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` documents chosen among the ``fetch_k`` most like ``query`` for both
        similarity and diversity (``lambda_mult`` 1: similarity only, 0: diversity only).

        The candidates' vectors are computed again with the embeddings.
        """
        hits = self._hits(query, max(k, fetch_k), filter)
        if not hits:
            return []
        query_vector = np.asarray(self._embedding.embed_query(query), dtype=np.float32)
        vectors = self._embedding.embed_documents([hit.prompt_text for hit in hits])
        chosen = maximal_marginal_relevance(query_vector, vectors, lambda_mult=lambda_mult, k=k)
        return [document_of(hits[i]) for i in chosen]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> RaeburnMemoryVectorStore:
        """:meth:`open` with ``kwargs`` (``db_path``, ``collection``, ...), then add ``texts``."""
        store = cls.open(embedding, **kwargs)
        try:
            store.add_texts(texts, metadatas, ids=ids)
        except BaseException:
            store.close()
            raise
        return store


def _relevance(score: float) -> float:
    return (score + 1.0) / 2.0
