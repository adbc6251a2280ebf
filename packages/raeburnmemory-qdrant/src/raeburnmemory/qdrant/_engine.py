"""What the index asks of a Qdrant engine: a server by URL, or Qdrant Edge embedded.

:class:`~raeburnmemory.qdrant.index.QdrantVectors` keeps the store's changes, the outage
handling and the reconciliation; an engine only talks to Qdrant. Every method may raise what
the engine raises; the index sorts "out of reach" from other failures.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from raeburnmemory.core.model import EncoderInfo, SearchFilter
from raeburnmemory.core.store import Matrix, ScoredIds, StoredVectors
from raeburnmemory.qdrant._in_step import Claim
from raeburnmemory.qdrant.settings import QdrantSettings

#: Points per upsert request, and ids per delete request.
UPSERT_BATCH = 512


class Engine(ABC):
    """One store's collection (server) or shard (embedded)."""

    #: Whether only this process writes the collection (an embedded shard, under its lock).
    exclusive: ClassVar[bool] = False

    def __init__(self, settings: QdrantSettings) -> None:
        self.settings = settings

    @abstractmethod
    def open(self, dim: int, encoder: EncoderInfo | None) -> None:
        """Make sure the collection exists (creating it empty) and fits ``dim`` and ``encoder``."""

    @abstractmethod
    def recreate(self, dim: int, encoder: EncoderInfo | None) -> None:
        """Drop the collection (if any) and create it empty."""

    @abstractmethod
    def record_encoder(self, dim: int, encoder: EncoderInfo) -> None:
        """Write the store's encoder into the collection's marker."""

    @abstractmethod
    def missing(self) -> bool:
        """Whether the collection is gone (removed by someone else); ``False`` when unsure."""

    @abstractmethod
    def upsert(
        self,
        points: StoredVectors,
        point_ids: Sequence[str] | None = None,
    ) -> None:
        """Insert or replace the prompts' points (``point_ids``: theirs, when already known)."""

    @abstractmethod
    def delete(self, point_ids: Sequence[str]) -> None:
        """Delete points by point id (unknown ones are ignored)."""

    @abstractmethod
    def point_ids(self) -> set[str]:
        """Every point id in the collection."""

    @abstractmethod
    def search(self, vector: Matrix, k: int, flt: SearchFilter | None) -> ScoredIds:
        """The ``k`` nearest prompts passing ``flt``, as ``(prompt id, cosine similarity)``."""

    @abstractmethod
    def count(self) -> int:
        """How many points the collection holds."""

    def optimize(self) -> None:  # noqa: B027 - a server optimizes by itself
        """Build the search index of what is not indexed yet, now (embedded only)."""

    def writes(self) -> int:
        """How many writes the collection has taken from this process (embedded only)."""
        return 0

    def in_step_claim(self) -> Claim | None:
        """What the collection was closed in step with, if it records it."""
        return None

    def claim_in_step(self, claim: Claim) -> None:  # noqa: B027 - embedded only
        """Record that the collection holds exactly the rows of ``claim`` (flushed first)."""

    def reopen_if_closed(self) -> None:  # noqa: B027 - only the embedded engine can be closed
        """Open the engine again when it was closed underneath (at exit, or by a test)."""

    @abstractmethod
    def release(self) -> None:
        """Give the pooled client or shard back (the last user closes it)."""
