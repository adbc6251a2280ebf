"""raeburnmemory-qdrant: prompt vectors in Qdrant, embedded (Qdrant Edge) or on a server.

Use it with ``MemoryGraph(vector_backend="qdrant")``; the options ``qdrant_url``,
``qdrant_api_key`` and ``collection`` say where the vectors go.
"""

from raeburnmemory.qdrant.index import QdrantVectors
from raeburnmemory.qdrant.settings import QdrantSettings

__all__ = ["QdrantSettings", "QdrantVectors"]
