"""raeburnmemory-core: the memory graph, its default JSON store, vector indexes and encoders."""

from raeburnmemory.core.encoders import (
    Encoder,
    EncoderFallbackWarning,
    HashingEncoder,
    resolve_encoder,
)
from raeburnmemory.core.errors import (
    BackendNotInstalledError,
    ConfigurationError,
    ConflictError,
    CorruptStoreError,
    EmbeddingMismatchError,
    InteractionError,
    InvalidInteractionError,
    NoEmbeddingsError,
    NotFoundError,
    RaeburnMemoryError,
    SearchError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    StoreUnavailableError,
    UnsupportedSearchError,
)
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import (
    Agent,
    EncoderInfo,
    Interaction,
    Link,
    SearchFilter,
    SearchHit,
    VectorPayload,
)
from raeburnmemory.core.store import Store, StoreChanges, StoredVectors
from raeburnmemory.core.vectors import VectorIndex

__all__ = [
    "Agent",
    "BackendNotInstalledError",
    "ConfigurationError",
    "ConflictError",
    "CorruptStoreError",
    "EmbeddingMismatchError",
    "Encoder",
    "EncoderFallbackWarning",
    "EncoderInfo",
    "HashingEncoder",
    "Interaction",
    "InteractionError",
    "InvalidInteractionError",
    "Link",
    "MemoryGraph",
    "NoEmbeddingsError",
    "NotFoundError",
    "RaeburnMemoryError",
    "SearchError",
    "SearchFilter",
    "SearchHit",
    "Store",
    "StoreChanges",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "StoredVectors",
    "UnsupportedSearchError",
    "VectorIndex",
    "VectorPayload",
    "resolve_encoder",
]
