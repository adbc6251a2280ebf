"""MemoryGraph: record LLM interactions durably and find the prompts most like a new one.

:class:`MemoryGraph` (also ``raeburnmemory.memory_graph.MemoryGraph``) is the public class; the
modules of this package are its private parts.
"""

from raeburnmemory.core.memory._facade import MemoryGraph
from raeburnmemory.core.memory._searcher import SEARCH_MODES
from raeburnmemory.core.model import MAX_TOP_K

__all__ = ["MAX_TOP_K", "SEARCH_MODES", "MemoryGraph"]
