"""raeburnmemory-postgres: a memory graph in PostgreSQL, prompt vectors searched by pgvector.

``MemoryGraph(storage_backend="postgres", dsn="postgresql://user@host/db")`` uses it; the
connection string may also come from ``$RAEBURN_POSTGRES_DSN``.
"""

from raeburnmemory.postgres._dsn import DSN_ENV
from raeburnmemory.postgres.store import PostgresStore

__all__ = ["DSN_ENV", "PostgresStore"]
