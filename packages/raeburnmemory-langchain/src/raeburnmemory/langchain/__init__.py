"""raeburnmemory-langchain: raeburnmemory inside LangChain and LangGraph.

:class:`RaeburnMemoryVectorStore` is a LangChain vector store over a ``MemoryGraph``;
:class:`EmbeddingsEncoder` lets a memory encode with LangChain embeddings;
:class:`RaeburnMemoryChatMessageHistory` is one session's transcript as a chat history;
:class:`RaeburnMemoryStore` is a LangGraph long-term memory store (it needs the ``langgraph``
extra, and is imported only when asked for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raeburnmemory.langchain.chat_history import RaeburnMemoryChatMessageHistory
from raeburnmemory.langchain.encoder import EmbeddingsEncoder
from raeburnmemory.langchain.errors import MissingExtraError
from raeburnmemory.langchain.vectorstore import DEFAULT_COLLECTION, RaeburnMemoryVectorStore

if TYPE_CHECKING:
    from raeburnmemory.langchain.store import DEFAULT_STORE_SESSION, RaeburnMemoryStore

__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_STORE_SESSION",
    "EmbeddingsEncoder",
    "MissingExtraError",
    "RaeburnMemoryChatMessageHistory",
    "RaeburnMemoryStore",
    "RaeburnMemoryVectorStore",
]

_NEEDS_LANGGRAPH = ("DEFAULT_STORE_SESSION", "RaeburnMemoryStore")


def __getattr__(name: str) -> Any:
    """The LangGraph store's names, imported on first use (LangGraph is an optional extra)."""
    if name not in _NEEDS_LANGGRAPH:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from raeburnmemory.langchain import store
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("langgraph"):
            raise
        raise MissingExtraError(
            f"{name} needs LangGraph: pip install 'raeburnmemory-langchain[langgraph]'"
        ) from exc
    return getattr(store, name)
