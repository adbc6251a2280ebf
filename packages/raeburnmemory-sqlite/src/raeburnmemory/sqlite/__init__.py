"""raeburnmemory-sqlite: a memory graph in one SQLite file, with sqlite-vec and FTS5 search.

``MemoryGraph(storage_backend="sqlite")`` uses :class:`SQLiteStore`; the
``vector_backend="sqlite-vec"`` option searches vectors inside the database.
"""

from raeburnmemory.sqlite._schema import SCHEMA_VERSION
from raeburnmemory.sqlite.store import SQLiteStore

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]
