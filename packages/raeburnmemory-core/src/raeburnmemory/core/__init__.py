"""raeburnmemory-core: the memory graph, its default JSON store, vector indexes and encoders.

The names below are imported on first use, so importing one submodule (the errors, say) does not
load numpy and every other part of the library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        ExportTargetError,
        InteractionError,
        InvalidInteractionError,
        ModelUnavailableError,
        NoEmbeddingsError,
        NotAStoreError,
        NotFoundError,
        PartialWriteError,
        RaeburnMemoryError,
        SearchError,
        StoreError,
        StoreLockedError,
        StoreNotFoundError,
        StorePermissionError,
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
    "ExportTargetError",
    "HashingEncoder",
    "Interaction",
    "InteractionError",
    "InvalidInteractionError",
    "Link",
    "MemoryGraph",
    "ModelUnavailableError",
    "NoEmbeddingsError",
    "NotAStoreError",
    "NotFoundError",
    "PartialWriteError",
    "RaeburnMemoryError",
    "SearchError",
    "SearchFilter",
    "SearchHit",
    "Store",
    "StoreChanges",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "StorePermissionError",
    "StoreUnavailableError",
    "StoredVectors",
    "UnsupportedSearchError",
    "VectorIndex",
    "VectorPayload",
    "resolve_encoder",
]

_HOMES = {
    "Agent": "raeburnmemory.core.model",
    "BackendNotInstalledError": "raeburnmemory.core.errors",
    "ConfigurationError": "raeburnmemory.core.errors",
    "ConflictError": "raeburnmemory.core.errors",
    "CorruptStoreError": "raeburnmemory.core.errors",
    "EmbeddingMismatchError": "raeburnmemory.core.errors",
    "Encoder": "raeburnmemory.core.encoders",
    "EncoderFallbackWarning": "raeburnmemory.core.encoders",
    "EncoderInfo": "raeburnmemory.core.model",
    "ExportTargetError": "raeburnmemory.core.errors",
    "HashingEncoder": "raeburnmemory.core.encoders",
    "Interaction": "raeburnmemory.core.model",
    "InteractionError": "raeburnmemory.core.errors",
    "InvalidInteractionError": "raeburnmemory.core.errors",
    "ModelUnavailableError": "raeburnmemory.core.errors",
    "Link": "raeburnmemory.core.model",
    "MemoryGraph": "raeburnmemory.core.memory",
    "NoEmbeddingsError": "raeburnmemory.core.errors",
    "NotAStoreError": "raeburnmemory.core.errors",
    "NotFoundError": "raeburnmemory.core.errors",
    "PartialWriteError": "raeburnmemory.core.errors",
    "RaeburnMemoryError": "raeburnmemory.core.errors",
    "SearchError": "raeburnmemory.core.errors",
    "SearchFilter": "raeburnmemory.core.model",
    "SearchHit": "raeburnmemory.core.model",
    "Store": "raeburnmemory.core.store",
    "StoreChanges": "raeburnmemory.core.store",
    "StoreError": "raeburnmemory.core.errors",
    "StoreLockedError": "raeburnmemory.core.errors",
    "StoreNotFoundError": "raeburnmemory.core.errors",
    "StorePermissionError": "raeburnmemory.core.errors",
    "StoreUnavailableError": "raeburnmemory.core.errors",
    "StoredVectors": "raeburnmemory.core.store",
    "UnsupportedSearchError": "raeburnmemory.core.errors",
    "VectorIndex": "raeburnmemory.core.vectors",
    "VectorPayload": "raeburnmemory.core.model",
    "resolve_encoder": "raeburnmemory.core.encoders",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
