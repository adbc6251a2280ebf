"""The public home of :class:`MemoryGraph`.

``from raeburnmemory.memory_graph import MemoryGraph`` is the import path to use.
"""

from raeburnmemory.core.encoders import EncoderFallbackWarning
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Interaction, SearchHit
from raeburnmemory.core.sessions import SessionSummary

__all__ = ["EncoderFallbackWarning", "Interaction", "MemoryGraph", "SearchHit", "SessionSummary"]
