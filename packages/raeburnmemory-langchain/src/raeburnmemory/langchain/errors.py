"""The errors raeburnmemory-langchain raises besides the core's."""

from __future__ import annotations

from raeburnmemory.core.errors import RaeburnMemoryError

__all__ = ["MissingExtraError"]


class MissingExtraError(RaeburnMemoryError, ImportError):
    """A part was asked for whose optional dependencies are not installed."""
