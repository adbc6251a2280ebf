"""The SQLite store: a whole memory graph and its vectors in one WAL database file.

Every write is one ``BEGIN IMMEDIATE`` transaction, durable when the call returns (against a
crash of the process with the default ``synchronous=NORMAL``; against power loss too with
``fsync=True``). Several threads and processes share the file: SQLite serializes the writers,
and a change log lets each process catch up with the others' adds and deletes.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import zip_longest
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import numpy as np

from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    CorruptStoreError,
    EmbeddingMismatchError,
    NotAStoreError,
    NotFoundError,
    RaeburnMemoryError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    StorePermissionError,
)
from raeburnmemory.core.limits import check_records
from raeburnmemory.core.model import (
    Agent,
    EncoderInfo,
    Interaction,
    Link,
    SearchFilter,
    VectorPayload,
)
from raeburnmemory.core.paths import default_db_path
from raeburnmemory.core.store import Matrix, ScoredIds, Store, StoreChanges, StoredVectors
from raeburnmemory.core.store_files import SQLITE_EXTENSIONS, StoreFileKind, identify_store_file
from raeburnmemory.sqlite import _fts, _vec
from raeburnmemory.sqlite._access import Access, access_for
from raeburnmemory.sqlite._connections import Connection, ThreadConnections
from raeburnmemory.sqlite._driver import connect, errors, require_vec
from raeburnmemory.sqlite._json_import import (
    database_files,
    import_json_store,
    import_temporaries,
    json_sibling,
)
from raeburnmemory.sqlite._meta import add_to_meta, get_meta, set_meta
from raeburnmemory.sqlite._rows import (
    INTERACTION_COLUMNS,
    ROW_COLUMNS,
    ROW_WIDTH,
    from_row,
    load_dict,
    matrix_from_blobs,
    to_row,
    vector_blob,
)
from raeburnmemory.sqlite._schema import (
    PAGE_SIZE,
    FileState,
    ensure_schema,
    inspect_file,
    is_permission_error,
)

__all__ = ["SQLiteStore"]

#: Default seconds a writer waits for another one before ``StoreLockedError``.
DEFAULT_BUSY_TIMEOUT = 30.0
#: Change-log entries older than this are trimmed by :meth:`SQLiteStore.compact`.
CHANGE_RETENTION_SECONDS = 3600.0
_CHUNK = 500  # ids per ``IN (...)`` list
_PAGE = 1000  # rows per page when streaming


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _database_path(location: str | None) -> Path:
    """``location`` exactly as given; the default store path with a SQLite extension."""
    if location is not None:
        return Path(location).expanduser().absolute()
    path = default_db_path()
    if path.suffix not in SQLITE_EXTENSIONS:
        path = path.with_suffix(".db")
    return path.absolute()


def _parse_options(options: Mapping[str, Any] | None) -> tuple[float, bool]:
    opts = dict(options or {})
    timeout = opts.get("busy_timeout", DEFAULT_BUSY_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ConfigurationError(f"busy_timeout must be a number of seconds >= 0, not {timeout!r}")
    fsync = opts.get("fsync", False)
    if not isinstance(fsync, bool):
        raise ConfigurationError(f"fsync must be True or False, not {fsync!r}")
    return float(timeout), fsync


class SQLiteStore(Store):
    """A memory graph in one SQLite database (``storage_backend="sqlite"``).

    Open it with :meth:`open`. Options: ``busy_timeout`` (seconds a writer waits for another,
    default 30) and ``fsync`` (``True``: ``synchronous=FULL``, durable across power loss).
    ``vector_backend="sqlite-vec"`` searches inside the database with the sqlite-vec extension.
    """

    name: ClassVar[str] = "sqlite"
    option_names: ClassVar[frozenset[str]] = frozenset({"busy_timeout", "fsync"})
    native_vector_backends: ClassVar[tuple[str, ...]] = ("sqlite-vec",)
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
        self._busy_timeout = busy_timeout
        self._writer = secrets.randbits(62)
        self._last_change = 0
        self._refresh_lock = threading.Lock()
        self._tls = threading.local()
        self._bulk_conn: Any = None
        self.access = access
        factory = functools.partial(
            connect, path, busy_timeout=busy_timeout, synchronous=synchronous, access=access
        )
        self._pool = ThreadConnections(factory, self.location)
        self._finalizer = weakref.finalize(self, self._pool.close)

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        location: str | None,
        *,
        create: bool = True,
        vector_backend: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> SQLiteStore:
        """Open the database at ``location``, used exactly as given (default ``graph.db``).

        With ``create=True`` a missing database is imported from the raeburnmemory JSON store of
        the same stem (``mem.db`` from ``mem.json``) when there is one, else created empty;
        with ``create=False`` it raises ``StoreNotFoundError`` and nothing is made. A file that
        is not a raeburnmemory database raises ``CorruptStoreError`` and is left untouched.
        """
        busy_timeout, fsync = _parse_options(options)
        if vector_backend not in (None, "sqlite-vec"):
            raise ConfigurationError(
                f"the sqlite store runs only the 'sqlite-vec' vector backend itself, not "
                f"{vector_backend!r}"
            )
        if vector_backend == "sqlite-vec":
            require_vec()
        path = _database_path(location)
        if identify_store_file(path) is StoreFileKind.JSON_STORE:
            raise NotAStoreError(
                path, f"{path} is a raeburnmemory JSON store: open it with storage_backend='json'"
            )
        access = access_for(path)
        state = inspect_file(path, access)
        if state is FileState.EMPTY and not create:
            raise NotAStoreError(path, f"{path} is an empty file, not a raeburnmemory store yet")
        if state is FileState.MISSING:
            json_path = json_sibling(path)
            if not create:
                raise StoreNotFoundError(f"{path}: no raeburnmemory database here")
            if json_path != path and identify_store_file(json_path) is StoreFileKind.JSON_STORE:
                import_json_store(json_path, path, functools.partial(_open_import_target, cls))
                state = inspect_file(path)
            else:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except PermissionError:
                    raise StorePermissionError(path.parent, "create") from None
                except OSError as exc:
                    raise StoreError(f"{path.parent}: cannot create the directory: {exc}") from exc
        if state is not FileState.CURRENT and access is not Access.WRITE:
            raise StorePermissionError(path, "write")  # to create or upgrade its tables
        store = cls(
            path,
            busy_timeout=busy_timeout,
            synchronous="FULL" if fsync else "NORMAL",
            vector_backend=vector_backend,
            access=access,
        )
        try:
            store._initialize(state)
        except BaseException:
            store.close()
            raise
        return store

    def _initialize(self, state: FileState) -> None:
        with self._guard():
            conn, _ = self._pool.get()
            if state in (FileState.MISSING, FileState.EMPTY):
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if state is not FileState.CURRENT:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"{self.path}: cannot switch the database to WAL mode")
                with self._write() as (wconn, _):
                    ensure_schema(wconn, self.path)
            self._last_change = self._log_position(conn)
        if self.vector_backend == "sqlite-vec":
            self._ensure_vec()

    # -- connections and transactions --------------------------------------------------------

    def _conn(self) -> Connection:
        return self._pool.get()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn driver errors into the library's, naming the database file."""
        try:
            yield
        except RaeburnMemoryError:
            raise
        except errors().Error as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: Exception) -> RaeburnMemoryError:
        message = str(exc)
        lowered = message.lower()
        if is_permission_error(exc):
            readonly = self.access is not Access.WRITE or "readonly" in lowered
            return StorePermissionError(self.path, "write" if readonly else "open")
        if "locked" in lowered or "busy" in lowered:
            return StoreLockedError(self.path, self._busy_timeout)
        if any(word in lowered for word in ("malformed", "not a database", "corrupt")):
            return CorruptStoreError(self.path, f"cannot be read: {message}")
        return StoreError(f"{self.path}: {message}")

    @contextmanager
    def _transaction(self, conn: Any) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error).

        After the commit, this object's own change-log entries count as seen when nothing else
        was logged before them, so the next :meth:`refresh` need not read them back.
        """
        self._tls.logged = None
        with self._guard():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                self._tls.logged = None
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        logged, self._tls.logged = self._tls.logged, None
        if logged is not None:
            with self._refresh_lock:
                if self._last_change == logged[0]:
                    self._last_change = logged[1]

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, or the bulk one when inside :meth:`bulk`."""
        conn, vec_loaded = self._pool.get()
        if self._bulk_conn is conn:
            yield conn, vec_loaded
            return
        with self._transaction(conn):
            yield conn, vec_loaded

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        """Several reads that see one consistent state of the database."""
        conn, _ = self._pool.get()
        if self._bulk_conn is conn:
            yield conn
            return
        with self._guard():
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def bulk(self) -> Iterator[SQLiteStore]:
        """Run every write of this thread in the block as one transaction, committed at its end."""
        conn, _ = self._pool.get()
        with self._transaction(conn):
            self._bulk_conn = conn
            try:
                yield self
            finally:
                self._bulk_conn = None

    @staticmethod
    def _log_position(conn: Any) -> int:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        return int(row[0]) if row else 0

    def _log(self, conn: Any, op: str, prompt_ids: Iterable[str | None]) -> None:
        """Append to the change log, and note which entries are this object's own."""
        now = time.time()
        rows = [(op, pid, self._writer, now) for pid in prompt_ids]
        conn.executemany(
            "INSERT INTO changes (op, prompt_id, writer, at) VALUES (?, ?, ?, ?)", rows
        )
        # AUTOINCREMENT numbers our rows one after another: we hold the write lock.
        after = self._log_position(conn)
        earlier = getattr(self._tls, "logged", None)
        self._tls.logged = (earlier[0] if earlier else after - len(rows), after)

    # -- encoder -----------------------------------------------------------------------------

    def encoder_info(self) -> EncoderInfo | None:
        """The encoder the stored vectors were made with, or ``None`` before the first one."""
        with self._guard():
            conn, _ = self._conn()
            return self._read_encoder(conn)

    @staticmethod
    def _read_encoder(conn: Any) -> EncoderInfo | None:
        rows = dict(
            conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('encoder_name', 'encoder_dim')"
            ).fetchall()
        )
        if "encoder_name" not in rows or "encoder_dim" not in rows:
            return None
        return EncoderInfo(rows["encoder_name"], int(rows["encoder_dim"]))

    def set_encoder_info(self, info: EncoderInfo) -> None:
        """Record the encoder of the vectors; another one while vectors exist is a mismatch."""
        with self._write() as (conn, vec_loaded):
            current = self._read_encoder(conn)
            if current == info:
                return
            if current is not None and conn.execute("SELECT 1 FROM vectors LIMIT 1").fetchone():
                raise EmbeddingMismatchError(current.name, current.dim, info.name, info.dim)
            set_meta(conn, "encoder_name", info.name)
            set_meta(conn, "encoder_dim", str(int(info.dim)))
            self._reset_vec(conn, vec_loaded, info.dim)

    def _reset_vec(self, conn: Any, vec_loaded: bool, dim: int) -> None:
        """Rebuild the vec0 table after the vectors changed wholesale (or mark it stale)."""
        if vec_loaded and self.vector_backend == "sqlite-vec":
            _vec.rebuild(conn, dim)
        else:
            _vec.mark_stale(conn)

    # -- writes ------------------------------------------------------------------------------

    def _check_vectors(self, vectors: Matrix | None, count: int) -> Matrix | None:
        if vectors is None:
            return None
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != count:
            raise ConfigurationError(
                f"expected one vector per interaction ({count} rows), got an array of shape "
                f"{matrix.shape}"
            )
        return matrix

    def add(self, interactions: Sequence[Interaction], vectors: Matrix | None) -> list[str]:
        """Durably record interactions and their prompt vectors, all or nothing."""
        items = list(interactions)
        if not items:
            return []
        matrix = self._check_vectors(vectors, len(items))
        check_records(items, matrix)
        with self._write() as (conn, _):
            info = self._read_encoder(conn)
            if matrix is not None and info is not None and matrix.shape[1] != info.dim:
                raise ConfigurationError(
                    f"the vectors have {matrix.shape[1]} dimensions but the store's encoder "
                    f"{info.name!r} makes {info.dim}"
                )
            fresh = self._new_items(conn, items)
            if not fresh:
                return []
            self._insert(conn, fresh, matrix)
        return [item.prompt_id for _, item in fresh]

    def _new_items(self, conn: Any, items: list[Interaction]) -> list[tuple[int, Interaction]]:
        """The items to insert, with their rows; duplicates skipped, conflicts refused."""
        stored: dict[str, tuple[Any, ...]] = {}
        owners: dict[str, str] = {}
        prompt_ids = list({item.prompt_id: None for item in items})
        response_ids = list({item.response_id: None for item in items})
        for prompts, responses in zip_longest(_chunks(prompt_ids), _chunks(response_ids)):
            prompts, responses = prompts or [], responses or []
            wanted = [
                f"{column} IN ({_placeholders(len(ids))})"
                for column, ids in (("prompt_id", prompts), ("response_id", responses))
                if ids  # an empty IN () would make SQLite scan the whole index
            ]
            for row in conn.execute(
                "SELECT prompt_id, prompt_text, response_id, response_text, agent_id, session_id "
                f"FROM interactions WHERE {' OR '.join(wanted)}",
                (*prompts, *responses),
            ):
                stored[row[0]] = tuple(row)
                owners[row[2]] = row[0]
        fresh: list[tuple[int, Interaction]] = []
        for row, item in enumerate(items):
            key = (
                item.prompt_id,
                item.prompt_text,
                item.response_id,
                item.response_text,
                item.agent_id,
                item.session_id,
            )
            known = stored.get(item.prompt_id)
            if known is not None:
                if known == key:
                    continue
                raise ConflictError(
                    f"prompt {item.prompt_id!r} is stored already with different content; "
                    "nothing was written"
                )
            owner = owners.get(item.response_id)
            if owner is not None and owner != item.prompt_id:
                raise ConflictError(
                    f"response {item.response_id!r} belongs to prompt {owner!r} already, not "
                    f"to {item.prompt_id!r}; nothing was written"
                )
            stored[item.prompt_id] = key
            owners[item.response_id] = item.prompt_id
            fresh.append((row, item))
        return fresh

    def _insert(
        self, conn: Any, fresh: list[tuple[int, Interaction]], matrix: Matrix | None
    ) -> None:
        start = conn.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'interactions'), 0),"
            " COALESCE((SELECT MAX(seq) FROM interactions), 0))"
        ).fetchone()[0]
        seqs = [start + 1 + n for n in range(len(fresh))]
        conn.executemany(
            f"INSERT INTO interactions ({ROW_COLUMNS}) VALUES ({_placeholders(ROW_WIDTH)})",
            [to_row(seq, item) for seq, (_, item) in zip(seqs, fresh, strict=True)],
        )
        if matrix is not None:
            blobs = [vector_blob(matrix[row]) for row, _ in fresh]
            conn.executemany(
                "INSERT INTO vectors (seq, vector) VALUES (?, ?)", zip(seqs, blobs, strict=True)
            )
        add_to_meta(conn, "interactions", len(fresh))
        self._log(conn, "add", (item.prompt_id for _, item in fresh))

    def link(self, link: Link) -> None:
        """Durably record a caller-made edge between two stored prompts (``NotFoundError``)."""
        with self._write() as (conn, _):
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
        with self._write() as (conn, vec_loaded):
            found: dict[str, int] = {}
            for chunk in _chunks(wanted):
                found.update(
                    conn.execute(
                        "SELECT prompt_id, seq FROM interactions "
                        f"WHERE prompt_id IN ({_placeholders(len(chunk))})",
                        tuple(chunk),
                    ).fetchall()
                )
            removed = [pid for pid in wanted if pid in found]
            if not removed:
                return []
            seqs = [(found[pid],) for pid in removed]
            conn.executemany("DELETE FROM interactions WHERE seq = ?", seqs)
            conn.executemany("DELETE FROM vectors WHERE seq = ?", seqs)
            conn.executemany(
                "DELETE FROM links WHERE source = ?1 OR target = ?1", ((pid,) for pid in removed)
            )
            _vec.delete(conn, [seq for (seq,) in seqs], vec_loaded)
            add_to_meta(conn, "interactions", -len(removed))
            self._log(conn, "delete", removed)
        return removed

    def replace_vectors(
        self, batches: Iterable[tuple[list[str], Matrix]], info: EncoderInfo
    ) -> None:
        """Swap every prompt vector for new ones made by encoder ``info``, all or nothing."""
        with self._write() as (conn, vec_loaded):
            conn.execute("DELETE FROM vectors")
            for ids, vectors in batches:
                matrix = self._check_vectors(vectors, len(ids))
                if matrix is None or matrix.shape[1] != info.dim:
                    raise ConfigurationError(
                        f"the new vectors must have {info.dim} dimensions (encoder {info.name!r})"
                    )
                rows = {pid: row for row, pid in enumerate(ids)}
                for chunk in _chunks(ids):
                    found = conn.execute(
                        "SELECT prompt_id, seq FROM interactions "
                        f"WHERE prompt_id IN ({_placeholders(len(chunk))})",
                        tuple(chunk),
                    ).fetchall()
                    conn.executemany(
                        "INSERT OR REPLACE INTO vectors (seq, vector) VALUES (?, ?)",
                        [(seq, vector_blob(matrix[rows[pid]])) for pid, seq in found],
                    )
            set_meta(conn, "encoder_name", info.name)
            set_meta(conn, "encoder_dim", str(int(info.dim)))
            self._reset_vec(conn, vec_loaded, info.dim)
            self._log(conn, "reset", [None])

    # -- reads -------------------------------------------------------------------------------

    def _select(self, where: str, params: Sequence[Any] = ()) -> list[Interaction]:
        with self._guard():
            conn, _ = self._conn()
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
        for chunk in _chunks(unique):
            for item in self._select(f"WHERE prompt_id IN ({_placeholders(len(chunk))})", chunk):
                by_id[item.prompt_id] = item
        return [by_id[pid] for pid in wanted if pid in by_id]

    def session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (timestamp, then insertion)."""
        return self._select("WHERE session_id = ? ORDER BY ts_us, seq", (session_id,))

    def sessions(self) -> list[str]:
        """Every session id, in order of first appearance."""
        with self._guard():
            conn, _ = self._conn()
            rows = conn.execute(
                "SELECT session_id FROM interactions GROUP BY session_id ORDER BY MIN(seq)"
            ).fetchall()
        return [row[0] for row in rows]

    def agents(self) -> list[Agent]:
        """Every agent, in order of first appearance, with its latest name and attributes."""
        with self._guard():
            conn, _ = self._conn()
            rows = conn.execute(
                "SELECT i.agent_id, i.agent_name, i.agent_attrs FROM interactions i JOIN "
                "(SELECT agent_id, MIN(seq) AS first, MAX(seq) AS last FROM interactions "
                "GROUP BY agent_id) g ON i.seq = g.last ORDER BY g.first"
            ).fetchall()
        return [Agent(agent_id, name, load_dict(attrs)) for agent_id, name, attrs in rows]

    def links(self) -> list[Link]:
        """Every caller-made link between prompts, in the order they were made."""
        with self._guard():
            conn, _ = self._conn()
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
        with self._guard():
            conn, _ = self._conn()
            rows = conn.execute(
                f"SELECT seq, {INTERACTION_COLUMNS} FROM interactions WHERE seq > ? "
                f"ORDER BY seq LIMIT {_PAGE}",
                (after,),
            ).fetchall()
        return [(row[0], from_row(row[1:])) for row in rows]

    def count(self) -> int:
        """How many interactions are stored (a counter kept by every write, so no table scan)."""
        with self._guard():
            conn, _ = self._conn()
            return int(get_meta(conn, "interactions") or 0)

    def stats(self) -> dict[str, int]:
        """Counts of what the store holds, read in one consistent snapshot."""
        with self._snapshot() as conn:
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

    def _dim(self, conn: Any) -> int:
        info = self._read_encoder(conn)
        return info.dim if info is not None else 0

    def _vectors_where(self, conn: Any, where: str, params: Sequence[Any]) -> StoredVectors:
        dim = self._dim(conn)
        cursor = conn.execute(
            "SELECT i.prompt_id, i.session_id, i.agent_id, i.ts, v.vector FROM vectors v "
            f"JOIN interactions i ON i.seq = v.seq WHERE length(v.vector) = ? {where} "
            "ORDER BY v.seq",
            (4 * dim, *params),
        )
        ids: list[str] = []
        payloads: list[VectorPayload] = []
        parts: list[Matrix] = []
        while chunk := cursor.fetchmany(4096):
            ids.extend(row[0] for row in chunk)
            payloads.extend(VectorPayload(row[1], row[2], row[3]) for row in chunk)
            parts.append(matrix_from_blobs([row[4] for row in chunk], dim))
        matrix = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        return StoredVectors(ids, matrix, payloads)

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
        with self._snapshot() as conn:
            return self._vectors_where(conn, "", ())

    def refresh(self) -> StoreChanges:
        """Other writers' adds and deletes since the last call (never this object's own)."""
        with self._refresh_lock:
            if not self._changed_since_refresh():
                return StoreChanges()
            return self._read_changes()

    def _changed_since_refresh(self) -> bool:
        """One cheap query: has the change log moved, or been trimmed, since the last refresh?"""
        with self._guard():
            conn, _ = self._conn()
            last, floor = conn.execute(
                "SELECT (SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'changes'), "
                "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_floor')"
            ).fetchone()
        return bool((last or 0) != self._last_change or (floor or 0) > self._last_change)

    def _read_changes(self) -> StoreChanges:
        with self._snapshot() as conn:
            floor = int(get_meta(conn, "changes_floor") or 0)
            rows = conn.execute(
                "SELECT seq, op, prompt_id, writer FROM changes WHERE seq > ? ORDER BY seq",
                (self._last_change,),
            ).fetchall()
            trimmed = self._last_change < floor
            self._last_change = max(floor, int(rows[-1][0]) if rows else self._last_change)
            foreign = [row for row in rows if row[3] != self._writer]
            if trimmed or any(row[1] == "reset" for row in foreign):
                return StoreChanges(reset=True)
            touched = list(dict.fromkeys(row[2] for row in foreign))
            if not touched:
                return StoreChanges()
            parts = [
                self._vectors_where(
                    conn, f"AND i.prompt_id IN ({_placeholders(len(chunk))})", chunk
                )
                for chunk in _chunks(touched)
            ]
            added = StoredVectors(
                [pid for part in parts for pid in part.ids],
                np.concatenate([part.vectors for part in parts]),
                [payload for part in parts for payload in part.payloads],
            )
            present = {
                row[0]
                for chunk in _chunks(touched)
                for row in conn.execute(
                    "SELECT prompt_id FROM interactions "
                    f"WHERE prompt_id IN ({_placeholders(len(chunk))})",
                    tuple(chunk),
                )
            }
            return StoreChanges(added=added, removed=[pid for pid in touched if pid not in present])

    # -- searches ----------------------------------------------------------------------------

    def _ensure_vec(self) -> int:
        """Bring the vec0 table up to date (or rebuild it); returns the dimension, 0 if none."""
        with self._guard():
            conn, vec_loaded = self._conn()
            if not vec_loaded:
                require_vec()
                raise StoreError(f"{self.path}: the sqlite-vec extension could not be loaded")
            info = self._read_encoder(conn)
            if info is None:
                return 0
            if _vec.state(conn, info.dim) is _vec.IndexState.CURRENT:
                return info.dim
        with self._write() as (wconn, _):
            info = self._read_encoder(wconn)
            if info is None:
                return 0
            _vec.update(wconn, info.dim)
            return info.dim

    def vector_search(self, query: Matrix, k: int, flt: SearchFilter) -> ScoredIds:
        """The ``k`` nearest prompts passing ``flt``, searched inside the database (sqlite-vec)."""
        dim = self._ensure_vec()
        if dim == 0:
            return []
        with self._guard():
            conn, _ = self._conn()
            return _vec.search(conn, query, k, flt, dim)

    def _index_keywords(self) -> None:
        """Bring the keyword index up to date with every stored interaction."""
        with self._guard():
            conn, _ = self._conn()
            if _fts.is_current(conn):
                return
        with self._write() as (wconn, _):
            _fts.catch_up(wconn)

    def keyword_search(self, text: str, k: int, flt: SearchFilter) -> ScoredIds:
        """Prompts whose prompt or response text best matches ``text`` (FTS5, bm25), best first.

        Interactions written since the last keyword search are indexed first.
        """
        self._index_keywords()
        with self._guard():
            conn, _ = self._conn()
            return _fts.keyword_search(conn, text, k, flt)

    # -- upkeep ------------------------------------------------------------------------------

    def compact(self) -> None:
        """Index pending keywords (and sqlite-vec vectors), trim the change log, checkpoint."""
        cutoff = time.time() - CHANGE_RETENTION_SECONDS
        with self._write() as (conn, vec_loaded):
            _fts.catch_up(conn)
            info = self._read_encoder(conn)
            if vec_loaded and info is not None and self.vector_backend == "sqlite-vec":
                _vec.update(conn, info.dim)
            row = conn.execute("SELECT MAX(seq) FROM changes WHERE at < ?", (cutoff,)).fetchone()
            if row[0] is not None:
                conn.execute("DELETE FROM changes WHERE seq <= ?", (row[0],))
                set_meta(conn, "changes_floor", str(int(row[0])))
        with self._guard():
            conn, _ = self._conn()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA optimize")

    def close(self) -> None:
        """Close every connection of every thread. Calling it twice is harmless."""
        self._finalizer()

    def __enter__(self) -> SQLiteStore:
        """Use the store in a ``with`` block; it is closed at the end."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    def __repr__(self) -> str:
        """``SQLiteStore('/path/graph.db')``."""
        return f"{type(self).__name__}({self.location!r})"


def _open_import_target(cls: type[SQLiteStore], path: Path) -> SQLiteStore:
    """An empty store at a temporary path for :func:`import_json_store` (no fsync per write)."""
    store = cls(path, synchronous="OFF")
    try:
        store._initialize(FileState.MISSING)
    except BaseException:
        store.close()
        raise
    return store
