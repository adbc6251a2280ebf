"""PostgresStore: a memory graph in PostgreSQL, with prompt vectors searched by pgvector.

Every method runs on a pooled connection; every write is one transaction, committed before
the method returns, so any number of processes on any number of hosts can share one database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import psycopg

from raeburnmemory.core import checks
from raeburnmemory.core.errors import NotFoundError, StoreError
from raeburnmemory.core.model import Agent, EncoderInfo, Interaction, Link, SearchFilter
from raeburnmemory.core.options import option_names
from raeburnmemory.core.store import (
    ChangeKind,
    Matrix,
    OpenRequest,
    ScoredIds,
    Store,
    StoreChanges,
    StoredVectors,
    WriteMode,
)
from raeburnmemory.postgres import _indexer, _search
from raeburnmemory.postgres._changes import ChangeFeed, prune_changes, version_of
from raeburnmemory.postgres._connect import Pool, connect, open_pool, retrying, translated
from raeburnmemory.postgres._dsn import redact, resolve_dsn
from raeburnmemory.postgres._listing import PostgresListing
from raeburnmemory.postgres._lookups import PostgresLookups
from raeburnmemory.postgres._options import Settings, settings, specs
from raeburnmemory.postgres._rows import (
    COLUMNS,
    interaction,
    read_agents,
)
from raeburnmemory.postgres._schema import (
    Database,
    advisory_key,
    create_vector_index,
    create_vector_tables,
    has_vector_tables,
    migrate,
    read_encoder,
    write_encoder,
)
from raeburnmemory.postgres._stored_vectors import stored_vectors
from raeburnmemory.postgres._writes import (
    delete_rows,
    replace_all_vectors,
    write_rows,
)

__all__ = ["PostgresStore"]

T = TypeVar("T")

_PAGE = 1000


class PostgresStore(PostgresLookups, PostgresListing, Store):
    """A memory graph in a PostgreSQL database, vectors in pgvector columns with an HNSW index.

    Open it with :meth:`open` (``MemoryGraph(storage_backend="postgres", dsn=...)`` does), which
    connects, migrates the schema if needed and starts the connection pool. The connection string
    comes from the ``dsn`` option, else from ``location`` when it is a ``postgresql://`` URL or
    ``key=value`` string, else from ``$RAEBURN_POSTGRES_DSN``. Options: ``dsn``, ``schema``
    (default ``raeburnmemory``), ``pool_size`` (5), ``connect_timeout`` (5 s) and ``ef_search``
    (HNSW candidate list, 64).
    """

    name: ClassVar[str] = "postgres"
    option_names: ClassVar[frozenset[str]] = option_names(specs())
    native_vector_backends: ClassVar[tuple[str, ...]] = ("pgvector",)
    searches_filter_metadata: ClassVar[bool] = True
    default_vector_backend: ClassVar[str | None] = "pgvector"
    supports_keyword_search: ClassVar[bool] = True

    def __init__(self, dsn: str, database: Database, pool: Pool, config: Settings) -> None:
        self._dsn = dsn
        self._database = database
        self._pool = pool
        self._settings = config
        self._feed = ChangeFeed(uuid.uuid4().hex)
        self._indexer = _indexer.Indexer(self._connection, self._rebuild)
        self._closed = False
        self._vectors_ready = False
        self.location = redact(dsn)
        """The connection string, password redacted."""
        self.schema = database.schema
        """The PostgreSQL schema holding the store's tables."""

    @classmethod
    def _open_from(cls, request: OpenRequest) -> PostgresStore:
        """Connect, migrate the schema if needed and start the connection pool."""
        given = dict(request.options)
        dsn = resolve_dsn(request.location, given)
        config = settings(given, dsn)
        with connect(dsn, config.connect_timeout) as conn, translated(dsn):
            database = migrate(conn, config.schema, create=request.create)
        with translated(dsn):
            pool = open_pool(
                dsn,
                database,
                size=config.pool_size,
                timeout=config.connect_timeout,
                ef_search=config.ef_search,
            )
        store = cls(dsn, database, pool, config)
        return store._started(store._follow_and_index)

    def _follow_and_index(self) -> None:
        """Start following the change log, and index vectors left pending by a writer."""
        with self._connection() as conn:
            self._feed.baseline(conn)
            writable = conn.execute("SHOW transaction_read_only").fetchone() == ("off",)
            pending = has_vector_tables(conn) and conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pending_vectors)"
            ).fetchone() == (True,)
        if pending and writable:  # a replica leaves them to the primary's writers
            self._indexer.kick()

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:
            raise StoreError(f"the postgres store at {self.location} is closed")
        with translated(self._dsn), self._pool.connection() as conn:
            yield conn

    def _in_transaction(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run ``work(conn)`` in one transaction, again if a concurrent writer got in the way."""

        def attempt() -> T:
            with self._pool.connection() as conn, conn.transaction():
                return work(conn)

        if self._closed:
            raise StoreError(f"the postgres store at {self.location} is closed")
        with translated(self._dsn):
            return retrying(attempt)

    # -- encoder -----------------------------------------------------------------------------

    def encoder_info(self) -> EncoderInfo | None:
        """The encoder the stored vectors were made with, or ``None`` before the first one."""
        with self._connection() as conn:
            return read_encoder(conn)

    def set_encoder_info(self, info: EncoderInfo) -> None:
        """Record the encoder and make the vector tables for its dimension.

        Another encoder while vectors are stored raises ``EmbeddingMismatchError``.
        """

        def work(conn: psycopg.Connection[Any]) -> None:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            current = read_encoder(conn)

            def has_vectors() -> bool:
                if not has_vector_tables(conn):
                    return False
                row = conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM vectors) "
                    "OR EXISTS (SELECT 1 FROM pending_vectors)"
                ).fetchone()
                return bool(row and row[0])

            if not checks.check_encoder_change(current, info, has_vectors):
                return
            if current is None or current.dim != info.dim or not has_vector_tables(conn):
                conn.execute("DROP TABLE IF EXISTS vectors, pending_vectors")
                create_vector_tables(conn, info.dim)
                create_vector_index(conn, info.dim)
            write_encoder(conn, info)

        self._in_transaction(work)

    @property
    def _lock_key(self) -> int:
        return advisory_key(self._database.schema, "vectors")

    # -- writes ------------------------------------------------------------------------------

    def _write_checked(
        self, items: list[Interaction], matrix: Matrix | None, mode: WriteMode
    ) -> list[str]:
        """Write checked records in one transaction (``add`` or ``replace``, as ``mode`` says).

        Rows go in with ``COPY``; vectors land in ``pending_vectors``, searched exactly until the
        background indexer has moved them into the HNSW index.
        """

        def work(conn: psycopg.Connection[Any]) -> list[int]:
            return write_rows(conn, self._feed, items, matrix, mode)

        fresh = self._in_transaction(work)
        if matrix is not None and fresh:
            self._indexer.kick()
        return [items[p].prompt_id for p in fresh]

    def link(self, link: Link) -> None:
        """Durably record a caller-made edge between two stored prompts (``NotFoundError``)."""

        def work(conn: psycopg.Connection[Any]) -> None:
            found = {
                row[0]
                for row in conn.execute(
                    "SELECT prompt_id FROM interactions WHERE prompt_id = ANY(%s) FOR SHARE",
                    ([link.source, link.target],),
                )
            }
            for prompt_id in (link.source, link.target):
                if prompt_id not in found:
                    raise NotFoundError(f"no prompt with id {prompt_id!r}")
            conn.execute(
                "INSERT INTO links (source, target, relation) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (link.source, link.target, link.relation),
            )

        self._in_transaction(work)

    def delete(self, prompt_ids: Sequence[str]) -> list[str]:
        """Durably remove interactions with their vectors and links; returns the ids removed."""
        wanted = list(dict.fromkeys(prompt_ids))
        if not wanted:
            return []

        def work(conn: psycopg.Connection[Any]) -> set[str]:
            removed = delete_rows(conn, wanted)
            if removed:
                gone = [pid for pid in wanted if pid in removed]
                self._feed.log_change(conn, ChangeKind.DELETE, gone, -len(removed))
            return removed

        removed = self._in_transaction(work)
        return [pid for pid in wanted if pid in removed]

    def replace_vectors(
        self, batches: Iterable[tuple[list[str], Matrix]], info: EncoderInfo
    ) -> None:
        """Swap every prompt vector for new ones made by encoder ``info``, all or nothing.

        The new vectors are built beside the old ones with their own index; searches use the
        old ones until the swap commits.
        """

        def work(conn: psycopg.Connection[Any]) -> None:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            replace_all_vectors(conn, batches, info, had_vectors=has_vector_tables(conn))
            write_encoder(conn, info)
            self._feed.log_change(conn, ChangeKind.RESET, [])

        self._in_transaction(work)

    # -- reads -------------------------------------------------------------------------------

    def _select(
        self, where: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[Interaction]:
        with self._connection() as conn:
            cursor = conn.execute(f"SELECT {COLUMNS} FROM interactions {where}", params)
            return [interaction(row) for row in cursor]

    def get(self, prompt_id: str) -> Interaction | None:
        """The interaction of a prompt, or ``None``."""
        return next(iter(self.get_many([prompt_id])), None)

    def get_many(self, prompt_ids: Sequence[str]) -> list[Interaction]:
        """The interactions of the prompts that exist, in the order asked (one query)."""
        wanted = list(prompt_ids)
        if not wanted:
            return []
        by_id = {
            item.prompt_id: item
            for item in self._select("WHERE prompt_id = ANY(%s)", (list(set(wanted)),))
        }
        return [by_id[pid] for pid in wanted if pid in by_id]

    def session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (timestamp, then insertion)."""
        return self._select("WHERE session_id = %s ORDER BY ts, seq", (session_id,))

    def sessions(self) -> list[str]:
        """Every session id, in order of first appearance."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT session_id FROM interactions GROUP BY session_id ORDER BY min(seq)"
            ).fetchall()
        return [row[0] for row in rows]

    def agents(self) -> list[Agent]:
        """Every agent, in order of first appearance, with its latest known name and
        attributes (an interaction that gives none leaves the earlier ones known)."""
        with self._connection() as conn:
            return read_agents(conn)

    def links(self) -> list[Link]:
        """Every caller-made link between prompts, in the order they were made."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT source, target, relation FROM links ORDER BY seq"
            ).fetchall()
        return [Link(source, target, relation) for source, target, relation in rows]

    def iter_interactions(self) -> Iterator[Interaction]:
        """Every interaction, in insertion order (read a page at a time)."""
        last = 0
        while True:
            with self._connection() as conn:
                rows = conn.execute(
                    f"SELECT seq, {COLUMNS} FROM interactions WHERE seq > %s ORDER BY seq LIMIT %s",
                    (last, _PAGE),
                ).fetchall()
            if not rows:
                return
            last = int(rows[-1][0])
            for row in rows:
                yield interaction(row[1:])

    def count(self) -> int:
        """How many interactions are stored (kept by every write: no scan of the table)."""
        with self._connection() as conn:
            row = conn.execute("SELECT sum(interactions) FROM counts").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def stats(self) -> dict[str, int]:
        """Counts of interactions, sessions, agents and links, in one query."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT (SELECT sum(interactions) FROM counts), count(DISTINCT session_id), "
                "count(DISTINCT agent_id), (SELECT count(*) FROM links) FROM interactions"
            ).fetchone()
        values = [int(value) for value in row] if row else [0, 0, 0, 0]
        return dict(zip(("interactions", "sessions", "agents", "links"), values, strict=True))

    def load_vectors(self) -> StoredVectors:
        """Every stored prompt vector with its id and payload, in insertion order.

        Read in one snapshot, which also becomes the point :meth:`refresh` continues from.
        """
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self._feed.baseline(conn)
            return stored_vectors(conn, "", ())

    def version_token(self) -> str | None:
        """Changes with every commit that writes the change log (see ``_changes.version_of``)."""
        with self._connection() as conn:
            return version_of(conn)

    def refresh(self) -> StoreChanges:
        """Other writers' adds, deletes and vector replacements since the last call."""
        with self._connection() as conn:
            changes = self._feed.changed_ids(conn)
            if changes.reset:
                return StoreChanges(reset=True)
            if not changes.added and not changes.removed:
                return StoreChanges()
            added = stored_vectors(conn, "WHERE v.prompt_id = ANY(%s)", (changes.added,))
        missing = set(changes.added) - set(added.ids)
        removed = changes.removed + [pid for pid in changes.added if pid in missing]
        return StoreChanges(added=added, removed=removed)

    # -- searches ----------------------------------------------------------------------------

    def vector_search(self, query: Matrix, k: int, flt: SearchFilter) -> ScoredIds:
        """Nearest prompts to a normalized query vector, by pgvector (HNSW, cosine)."""
        with self._connection() as conn:
            if not self._vectors_ready:
                self._vectors_ready = has_vector_tables(conn)  # once made, they stay
                if not self._vectors_ready:
                    return []
            return _search.vector_search(conn, query, k, flt)

    # -- upkeep ------------------------------------------------------------------------------

    def compact(self) -> None:
        """Put every vector waiting in ``pending_vectors`` into the HNSW index, and prune the
        change log of entries older than a day."""
        with self._connection() as conn:
            info = read_encoder(conn)
            if info is not None and has_vector_tables(conn):
                if _indexer.should_rebuild(conn):
                    self._rebuild(conn)
                retrying(lambda: _indexer.drain(conn))
            with conn.transaction():
                prune_changes(conn)

    def _rebuild(self, conn: psycopg.Connection[Any]) -> None:
        """Rebuild the HNSW index over every vector, pending ones included."""
        info = read_encoder(conn)
        if info is not None:
            retrying(lambda: _indexer.rebuild(conn, self._database.schema, info.dim))

    def close(self) -> None:
        """Stop the background indexer and close the pool. Calling it twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            self._indexer.stop()
        finally:
            self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r}, schema={self.schema!r})"
