"""raeburnmemory-langchain: raeburnmemory inside LangChain and LangGraph.

:class:`RaeburnMemoryVectorStore` is a LangChain vector store over a ``MemoryGraph``;
:class:`EmbeddingsEncoder` lets a memory encode with LangChain embeddings;
:class:`RaeburnMemoryChatMessageHistory` is one session's transcript as a chat history.
"""

from raeburnmemory.langchain.chat_history import RaeburnMemoryChatMessageHistory
from raeburnmemory.langchain.encoder import EmbeddingsEncoder
from raeburnmemory.langchain.vectorstore import DEFAULT_COLLECTION, RaeburnMemoryVectorStore

__all__ = [
    "DEFAULT_COLLECTION",
    "EmbeddingsEncoder",
    "RaeburnMemoryChatMessageHistory",
    "RaeburnMemoryVectorStore",
]
