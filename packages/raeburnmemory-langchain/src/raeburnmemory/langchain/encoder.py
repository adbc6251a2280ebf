"""EmbeddingsEncoder: LangChain ``Embeddings`` as the encoder of a ``MemoryGraph``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

__all__ = ["EmbeddingsEncoder", "embeddings_name", "querying"]

#: Set while a search encodes its query, so the query goes through ``embed_query``.
_QUERYING: ContextVar[bool] = ContextVar("raeburnmemory_langchain_querying", default=False)


def embeddings_name(embeddings: Embeddings) -> str:
    """The encoder name recorded in the store for ``embeddings``: ``langchain:`` and its class,
    with the model it names (a ``model`` or ``model_name`` attribute) when it names one."""
    name = f"langchain:{type(embeddings).__name__}"
    for attr in ("model", "model_name"):
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    return name


class EmbeddingsEncoder:
    """Wraps LangChain ``Embeddings`` for ``MemoryGraph(embedding_model=EmbeddingsEncoder(e))``.

    The store records :attr:`name` and the dimension beside its vectors, so a memory written
    with one embeddings model refuses another (``EmbeddingMismatchError``) instead of mixing
    vectors. Texts being stored go through ``embed_documents``; a search's query goes through
    ``embed_query`` when it is encoded inside :func:`querying`.

    Args:
        embeddings: The LangChain embeddings model.
        name: The name to record; default :func:`embeddings_name` of ``embeddings``.
    """

    def __init__(self, embeddings: Embeddings, name: str | None = None) -> None:
        self.embeddings = embeddings
        self.name = name or embeddings_name(embeddings)

    def encode(self, texts: Sequence[str]) -> Any:
        """One row per text: ``embed_query`` for a query inside :func:`querying`, else
        ``embed_documents``."""
        if _QUERYING.get() and len(texts) == 1:
            return np.asarray([self.embeddings.embed_query(texts[0])], dtype=np.float32)
        return np.asarray(self.embeddings.embed_documents(list(texts)), dtype=np.float32)

    def __repr__(self) -> str:
        return f"EmbeddingsEncoder({self.name!r})"


@contextmanager
def querying() -> Iterator[None]:
    """Within this block (and threads started from it with its context), the texts an
    :class:`EmbeddingsEncoder` encodes one at a time are search queries."""
    token = _QUERYING.set(True)
    try:
        yield
    finally:
        _QUERYING.reset(token)
