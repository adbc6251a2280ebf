"""The SQLite store: a whole memory graph and its vectors in one WAL database file.

Every write is one ``BEGIN IMMEDIATE`` transaction, durable when the call returns (against a
crash of the process with the default ``synchronous=NORMAL``; against power loss too with
``fsync=True``). Several threads and processes share the file: SQLite serializes the writers,
and a change log lets each process catch up with the others' adds and deletes.
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from raeburnmemory.core import checks
from raeburnmemory.core.errors import (
    NotFoundError,
    StoreError,
)
from raeburnmemory.core.model import Agent, EncoderInfo, Interaction, Link, SearchFilter
from raeburnmemory.core.options import Flag, Seconds, option_names, parse_options
from raeburnmemory.core.store import (
    Matrix,
    OpenRequest,
    ScoredIds,
    Store,
    StoreChanges,
    StoredVectors,
    WriteMode,
)
from raeburnmemory.sqlite import _fts, _vec
from raeburnmemory.sqlite._access import Access
from raeburnmemory.sqlite._agents import read_agents
from raeburnmemory.sqlite._changes import ChangeLog, version_of
from raeburnmemory.sqlite._connections import Connection, ThreadConnections
from raeburnmemory.sqlite._driver import connect, require_vec
from raeburnmemory.sqlite._json_import import (
    database_files,
    import_temporaries,
)
from raeburnmemory.sqlite._listing import SQLiteListing
from raeburnmemory.sqlite._lookups import SQLiteLookups
from raeburnmemory.sqlite._meta import get_meta, read_encoder, set_meta, write_encoder
from raeburnmemory.sqlite._opening import prepare_file
from raeburnmemory.sqlite._rows import (
    INTERACTION_COLUMNS,
    chunks,
    from_row,
    placeholders,
)
from raeburnmemory.sqlite._schema import (
    PAGE_SIZE,
    FileState,
    ensure_schema,
)
from raeburnmemory.sqlite._stored_vectors import changes_of, vectors_where
from raeburnmemory.sqlite._transactions import Transactions
from raeburnmemory.sqlite._writes import (
    add_rows,
    delete_rows,
    replace_rows,
    write_new_vectors,
)

__all__ = ["SQLiteStore"]

#: Default seconds a writer waits for another one before ``StoreLockedError``.
DEFAULT_BUSY_TIMEOUT = 30.0
#: Change-log entries older than this are trimmed by :meth:`SQLiteStore.compact`.
CHANGE_RETENTION_SECONDS = 3600.0
_PAGE = 1000  # rows per page when streaming


#: The options of :meth:`SQLiteStore.open`.
OPTIONS = (Seconds("busy_timeout", DEFAULT_BUSY_TIMEOUT), Flag("fsync"))


class SQLiteStore(SQLiteLookups, SQLiteListing, Store):
    """A memory graph in one SQLite database (``storage_backend="sqlite"``).

    Open it with :meth:`open`, which uses ``location`` exactly as given (default ``graph.db``).
    With ``create=True`` a missing database is imported from the raeburnmemory JSON store of the
    same stem (``mem.db`` from ``mem.json``) when there is one, else created empty; with
    ``create=False`` it raises ``StoreNotFoundError`` and nothing is made. A file that is not a
    raeburnmemory database raises ``CorruptStoreError`` and is left untouched.

    Options: ``busy_timeout`` (seconds a writer waits for another, default 30) and ``fsync``
    (``True``: ``synchronous=FULL``, durable across power loss). ``vector_backend="sqlite-vec"``
    searches inside the database with the sqlite-vec extension.
    """

    name: ClassVar[str] = "sqlite"
    option_names: ClassVar[frozenset[str]] = option_names(OPTIONS)
    native_vector_backends: ClassVar[tuple[str, ...]] = ("sqlite-vec",)
    searches_filter_metadata: ClassVar[bool] = True
    default_vector_backend: ClassVar[str | None] = None
    supports_keyword_search: ClassVar[bool] = True

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "NORMAL",
        vector_backend: str | None = None,
        access: Access = Access.WRITE,
    ) -> None:
        """Prefer :meth:`open`, which checks the file and creates or migrates the schema.

        ``access`` below ``WRITE`` opens every connection read-only (writes then raise
        ``StorePermissionError``).
        """
        self.path = path
        self.location = str(path)
        self.vector_backend = vector_backend
        self.access = access
        factory = functools.partial(
            connect, path, busy_timeout=busy_timeout, synchronous=synchronous, access=access
        )
        self._pool = ThreadConnections(factory, self.location)
        self._changes = ChangeLog()
        self._transactions = Transactions(
            self._pool, path, access=access, busy_timeout=busy_timeout, changes=self._changes
        )
        self._finalizer = weakref.finalize(self, self._pool.close)

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def _open_from(cls, request: OpenRequest) -> SQLiteStore:
        """Check (or import, or create) the database file, then create or migrate its schema."""
        parsed = parse_options("sqlite store", OPTIONS, request.options)
        busy_timeout, fsync = parsed["busy_timeout"], parsed["fsync"]
        path, access, state = prepare_file(
            request.location,
            create=request.create,
            vector_backend=request.vector_backend,
            import_target=functools.partial(_open_import_target, cls),
        )
        store = cls(
            path,
            busy_timeout=busy_timeout,
            synchronous="FULL" if fsync else "NORMAL",
            vector_backend=request.vector_backend,
            access=access,
        )
        return store._started(functools.partial(store._initialize, state))

    def _initialize(self, state: FileState) -> None:
        with self._transactions.connection() as conn:
            if state in (FileState.MISSING, FileState.EMPTY):
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if state is not FileState.CURRENT:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"{self.path}: cannot switch the database to WAL mode")
                with self._transactions.write() as (wconn, _):
                    ensure_schema(wconn, self.path)
            self._changes.start(conn)
        if self.vector_backend == "sqlite-vec":
            self._ensure_vec()

    # -- connections and transactions --------------------------------------------------------

    def _conn(self) -> Connection:
        return self._pool.get()

    @contextmanager
    def bulk(self) -> Iterator[SQLiteStore]:
        """Run every write of this thread in the block as one transaction, committed at its end."""
        with self._transactions.bulk():
            yield self

    # -- encoder -----------------------------------------------------------------------------

    def encoder_info(self) -> EncoderInfo | None:
        """The encoder the stored vectors were made with, or ``None`` before the first one."""
        with self._transactions.connection() as conn:
            return read_encoder(conn)

    def set_encoder_info(self, info: EncoderInfo) -> None:
        """Record the encoder of the vectors; another one while vectors exist is a mismatch."""
        with self._transactions.write() as (conn, vec_loaded):
            current = read_encoder(conn)

            def has_vectors() -> bool:
                return conn.execute("SELECT 1 FROM vectors LIMIT 1").fetchone() is not None

            if not checks.check_encoder_change(current, info, has_vectors):
                return
            write_encoder(conn, info)
            self._reset_vec(conn, vec_loaded, info.dim)

    def _reset_vec(self, conn: Any, vec_loaded: bool, dim: int) -> None:
        """Rebuild the vec0 table after the vectors changed wholesale (or mark it stale)."""
        if vec_loaded and self.vector_backend == "sqlite-vec":
            _vec.rebuild(conn, dim)
        else:
            _vec.mark_stale(conn)

    # -- writes ------------------------------------------------------------------------------

    def _write_checked(
        self, items: list[Interaction], matrix: Matrix | None, mode: WriteMode
    ) -> list[str]:
        """Write checked records in one transaction (``add`` or ``replace``, as ``mode`` says)."""
        with self._transactions.write() as (conn, vec_loaded):
            if matrix is not None:
                checks.check_fits_encoder(matrix, read_encoder(conn))
            write = (
                functools.partial(replace_rows, rewrite=mode.rewrite)
                if mode.replace
                else functools.partial(add_rows, skip=mode.skip_conflicts)
            )
            return write(conn, self._changes, items, matrix, vec_loaded)

    def link(self, link: Link) -> None:
        """Durably record a caller-made edge between two stored prompts (``NotFoundError``)."""
        with self._transactions.write() as (conn, _):
            for prompt_id in (link.source, link.target):
                if not conn.execute(
                    "SELECT 1 FROM interactions WHERE prompt_id = ?", (prompt_id,)
                ).fetchone():
                    raise NotFoundError(f"no prompt with id {prompt_id!r}")
            conn.execute(
                "INSERT OR IGNORE INTO links (source, target, relation) VALUES (?, ?, ?)",
                (link.source, link.target, link.relation),
            )

    def delete(self, prompt_ids: Sequence[str]) -> list[str]:
        """Durably remove interactions with their vectors and links; returns the ids removed."""
        wanted = list(dict.fromkeys(prompt_ids))
        if not wanted:
            return []
        with self._transactions.write() as (conn, vec_loaded):
            return delete_rows(conn, self._changes, wanted, vec_loaded)

    def replace_vectors(
        self, batches: Iterable[tuple[list[str], Matrix]], info: EncoderInfo
    ) -> None:
        """Swap every prompt vector for new ones made by encoder ``info``, all or nothing."""
        with self._transactions.write() as (conn, vec_loaded):
            write_new_vectors(conn, self._changes, batches, info)
            write_encoder(conn, info)
            self._reset_vec(conn, vec_loaded, info.dim)

    # -- reads -------------------------------------------------------------------------------

    def _select(self, where: str, params: Sequence[Any] = ()) -> list[Interaction]:
        with self._transactions.connection() as conn:
            rows = conn.execute(
                f"SELECT {INTERACTION_COLUMNS} FROM interactions {where}", tuple(params)
            ).fetchall()
        return [from_row(row) for row in rows]

    def get(self, prompt_id: str) -> Interaction | None:
        """The interaction of a prompt, or ``None``."""
        found = self._select("WHERE prompt_id = ?", (prompt_id,))
        return found[0] if found else None

    def get_many(self, prompt_ids: Sequence[str]) -> list[Interaction]:
        """The interactions of the prompts that exist, in the order asked."""
        wanted = list(prompt_ids)
        by_id: dict[str, Interaction] = {}
        unique = list(dict.fromkeys(wanted))
        for chunk in chunks(unique):
            for item in self._select(f"WHERE prompt_id IN ({placeholders(len(chunk))})", chunk):
                by_id[item.prompt_id] = item
        return [by_id[pid] for pid in wanted if pid in by_id]

    def session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (timestamp, then insertion)."""
        return self._select("WHERE session_id = ? ORDER BY ts_us, seq", (session_id,))

    def sessions(self) -> list[str]:
        """Every session id, in order of first appearance."""
        with self._transactions.connection() as conn:
            rows = conn.execute(
                "SELECT session_id FROM interactions GROUP BY session_id ORDER BY MIN(seq)"
            ).fetchall()
        return [row[0] for row in rows]

    def agents(self) -> list[Agent]:
        """Every agent, in order of first appearance, with its latest known name and attributes."""
        with self._transactions.connection() as conn:
            return read_agents(conn)

    def links(self) -> list[Link]:
        """Every caller-made link between prompts, in the order they were made."""
        with self._transactions.connection() as conn:
            rows = conn.execute("SELECT source, target, relation FROM links ORDER BY id").fetchall()
        return [Link(source, target, relation) for source, target, relation in rows]

    def iter_interactions(self) -> Iterator[Interaction]:
        """Every interaction, in insertion order (read a page at a time)."""
        last = 0
        while True:
            page = self._page(last)
            if not page:
                return
            last = page[-1][0]
            yield from (item for _, item in page)

    def _page(self, after: int) -> list[tuple[int, Interaction]]:
        with self._transactions.connection() as conn:
            rows = conn.execute(
                f"SELECT seq, {INTERACTION_COLUMNS} FROM interactions WHERE seq > ? "
                f"ORDER BY seq LIMIT {_PAGE}",
                (after,),
            ).fetchall()
        return [(row[0], from_row(row[1:])) for row in rows]

    def count(self) -> int:
        """How many interactions are stored (a counter kept by every write, so no table scan)."""
        with self._transactions.connection() as conn:
            return int(get_meta(conn, "interactions") or 0)

    def stats(self) -> dict[str, int]:
        """Counts of what the store holds, read in one consistent snapshot."""
        with self._transactions.read() as conn:
            interactions, sessions, agents = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT session_id), COUNT(DISTINCT agent_id) "
                "FROM interactions"
            ).fetchone()
            links = conn.execute("SELECT COUNT(*) FROM links").fetchone()[0]
        return {
            "interactions": int(interactions),
            "sessions": int(sessions),
            "agents": int(agents),
            "links": int(links),
        }

    def catching_up_may_wait(self) -> bool:
        """False while the store is open: in WAL mode reading the change log never waits for a
        writer."""
        return not self._finalizer.alive

    def own_files(self) -> list[Path]:
        """The database, SQLite's ``-wal``, ``-shm`` and ``-journal`` files, and the temporary
        database of a first-use import under way."""
        return [*database_files(self.path), *import_temporaries(self.path)]

    def derived_file(self, suffix: str) -> Path | None:
        """``<database file><suffix>``, beside the database."""
        return Path(f"{self.path}{suffix}")

    def load_vectors(self) -> StoredVectors:
        """Every stored prompt vector with its id and payload, in insertion order."""
        with self._transactions.read() as conn:
            return vectors_where(conn, "", ())

    def version_token(self) -> str | None:
        """The change log's last row: every write that touches a vector appends one."""
        with self._transactions.read() as conn:
            return version_of(conn)

    def refresh(self) -> StoreChanges:
        """Other writers' adds and deletes since the last call (never this object's own)."""
        with self._changes.lock:
            with self._transactions.connection() as conn:
                if not self._changes.moved(conn):
                    return StoreChanges()
            with self._transactions.read() as conn:
                changed = self._changes.changed_ids(conn)
                if changed.reset:
                    return StoreChanges(reset=True)
                if not changed.ids:
                    return StoreChanges()
                return changes_of(conn, changed.ids)

    # -- searches ----------------------------------------------------------------------------

    def _ensure_vec(self) -> int:
        """Bring the vec0 table up to date (or rebuild it); returns the dimension, 0 if none."""
        with self._transactions.guard():
            conn, vec_loaded = self._conn()
            if not vec_loaded:
                require_vec()
                raise StoreError(f"{self.path}: the sqlite-vec extension could not be loaded")
            info = read_encoder(conn)
            if info is None:
                return 0
            if _vec.state(conn, info.dim) is _vec.IndexState.CURRENT:
                return info.dim
        with self._transactions.write() as (wconn, _):
            info = read_encoder(wconn)
            if info is None:
                return 0
            _vec.update(wconn, info.dim)
            return info.dim

    def vector_search(self, query: Matrix, k: int, flt: SearchFilter) -> ScoredIds:
        """The ``k`` nearest prompts passing ``flt``, searched inside the database (sqlite-vec)."""
        dim = self._ensure_vec()
        if dim == 0:
            return []
        with self._transactions.connection() as conn:
            return _vec.search(conn, query, k, flt, dim)

    # -- upkeep ------------------------------------------------------------------------------

    def compact(self) -> None:
        """Index pending keywords (and sqlite-vec vectors), trim the change log, checkpoint."""
        cutoff = time.time() - CHANGE_RETENTION_SECONDS
        with self._transactions.write() as (conn, vec_loaded):
            _fts.catch_up(conn)
            info = read_encoder(conn)
            if vec_loaded and info is not None and self.vector_backend == "sqlite-vec":
                _vec.update(conn, info.dim)
            row = conn.execute("SELECT MAX(seq) FROM changes WHERE at < ?", (cutoff,)).fetchone()
            if row[0] is not None:
                conn.execute("DELETE FROM changes WHERE seq <= ?", (row[0],))
                set_meta(conn, "changes_floor", str(int(row[0])))
        with self._transactions.connection() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA optimize")

    def close(self) -> None:
        """Close every connection of every thread. Calling it twice is harmless."""
        self._finalizer()

    def __repr__(self) -> str:
        """``SQLiteStore('/path/graph.db')``."""
        return f"{type(self).__name__}({self.location!r})"


def _open_import_target(cls: type[SQLiteStore], path: Path) -> SQLiteStore:
    """An empty store at a temporary path for :func:`import_json_store` (no fsync per write)."""
    store = cls(path, synchronous="OFF")
    return store._started(functools.partial(store._initialize, FileState.MISSING))
