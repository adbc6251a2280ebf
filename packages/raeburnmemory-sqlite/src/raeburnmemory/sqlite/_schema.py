"""The database layout, how a file is recognised as a store, and forward schema migrations.

A raeburnmemory database carries three marks: ``PRAGMA application_id``, ``PRAGMA user_version``
(the schema version) and a ``meta`` table whose ``format`` row names it. A file is checked
through a read-only connection before anything writes to it, so a file that is not one of ours
(or is damaged) is reported and left exactly as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from raeburnmemory.core.errors import CorruptStoreError, StoreError, StorePermissionError
from raeburnmemory.sqlite._access import Access
from raeburnmemory.sqlite._driver import connect, errors
from raeburnmemory.sqlite._meta import set_meta

__all__ = [
    "APPLICATION_ID",
    "FORMAT",
    "PAGE_SIZE",
    "SCHEMA_VERSION",
    "FileState",
    "ensure_schema",
    "inspect_file",
    "is_permission_error",
]

# Primary result codes of SQLite that mean "not allowed here", not "damaged".
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_CANTOPEN = 3, 8, 14

#: ``PRAGMA application_id`` of every raeburnmemory database ("RBM1").
APPLICATION_ID = 0x52424D31
#: The ``meta`` row ``format`` of every raeburnmemory database.
FORMAT = "raeburnmemory-sqlite"
#: The schema version this code writes; older databases are migrated forward on open.
#: Version 2 lets a prompt have no response (``response_id`` and ``response_text`` NULL);
#: version 3 adds when an interaction expires (``expires_us``, microseconds since the epoch).
SCHEMA_VERSION = 3

#: The page size of new databases. Larger pages than SQLite's 4 KiB make the sqlite-vec scan and
#: bulk writes faster (fewer, larger reads); 16 KiB keeps single small writes nearly as cheap.
PAGE_SIZE = 16384

_SQLITE_MAGIC = b"SQLite format 3\x00"

# The indexes of the interactions table (made again when a migration rebuilds it).
_INDEXES = (
    "CREATE INDEX interactions_session ON interactions (session_id, ts_us, seq)",
    "CREATE INDEX interactions_agent ON interactions (agent_id, seq)",
)


_SCHEMA_V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE interactions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        prompt_id TEXT NOT NULL UNIQUE,
        prompt_text TEXT NOT NULL,
        response_id TEXT NOT NULL UNIQUE,
        response_text TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        agent_name TEXT,
        session_id TEXT NOT NULL,
        ts REAL NOT NULL,
        ts_us INTEGER NOT NULL,
        metadata TEXT NOT NULL,
        prompt_attrs TEXT NOT NULL,
        response_attrs TEXT NOT NULL,
        agent_attrs TEXT NOT NULL
    )""",
    *_INDEXES,
    "CREATE TABLE vectors (seq INTEGER PRIMARY KEY, vector BLOB NOT NULL)",
    """CREATE TABLE links (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        relation TEXT NOT NULL,
        UNIQUE (source, target, relation)
    )""",
    "CREATE INDEX links_target ON links (target)",
    """CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op TEXT NOT NULL,
        prompt_id TEXT,
        writer INTEGER NOT NULL,
        at REAL NOT NULL
    )""",
    """CREATE VIRTUAL TABLE fts USING fts5 (
        prompt_text, response_text,
        content='interactions', content_rowid='seq',
        tokenize='unicode61 remove_diacritics 2'
    )""",
    # Rows are indexed for keyword search lazily (see _fts.catch_up); only indexed rows
    # (seq up to meta.fts_seq) have index entries to remove.
    """CREATE TRIGGER interactions_fts_delete AFTER DELETE ON interactions
    WHEN old.seq <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_seq') BEGIN
        INSERT INTO fts (fts, rowid, prompt_text, response_text)
        VALUES ('delete', old.seq, old.prompt_text, old.response_text);
    END""",
)


def _optional_response(conn: sqlite3.Connection) -> None:
    """Version 1 to 2: ``response_id`` and ``response_text`` may be NULL (a prompt on its own).

    SQLite cannot drop a NOT NULL constraint, so the table is rebuilt with every row kept under
    its ``seq`` (vectors, keyword index and change feed refer to it), the indexes, the keyword
    index's delete trigger and the id counter as they were.
    """
    ddl = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'interactions'"
    ).fetchone()[0]
    trigger = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'interactions_fts_delete'"
    ).fetchone()
    counter = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'interactions'").fetchone()
    new_ddl = (
        ddl.replace("CREATE TABLE interactions", "CREATE TABLE interactions_v2", 1)
        .replace("response_id TEXT NOT NULL UNIQUE", "response_id TEXT UNIQUE", 1)
        .replace("response_text TEXT NOT NULL", "response_text TEXT", 1)
    )
    conn.execute(new_ddl)
    conn.execute("INSERT INTO interactions_v2 SELECT * FROM interactions ORDER BY seq")
    conn.execute("DROP TABLE interactions")
    conn.execute("ALTER TABLE interactions_v2 RENAME TO interactions")
    for statement in _INDEXES:
        conn.execute(statement)
    if trigger is not None:
        conn.execute(trigger[0])
    if counter is not None:
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'interactions'")
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('interactions', ?)", (counter[0],)
        )


def _expiry(conn: sqlite3.Connection) -> None:
    """Version 2 to 3: ``expires_us``, NULL for an interaction that never expires."""
    conn.execute("ALTER TABLE interactions ADD COLUMN expires_us INTEGER")
    conn.execute(
        "CREATE INDEX interactions_expiry ON interactions (expires_us) WHERE expires_us IS NOT NULL"
    )


#: ``_MIGRATIONS[n]`` brings a database at schema version ``n`` to ``n + 1``.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _optional_response,
    2: _expiry,
}


class FileState(Enum):
    """What :func:`inspect_file` found at a path."""

    MISSING = "missing"
    EMPTY = "empty"
    CURRENT = "current"
    OLDER = "older"


def inspect_file(path: Path, access: Access = Access.READ) -> FileState:
    """Tell whether ``path`` holds a raeburnmemory database, without writing to it.

    Raises ``CorruptStoreError`` naming the file when it is not a SQLite database, cannot be
    read, is some other application's database or was written by a newer schema.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return FileState.MISSING
    except IsADirectoryError:
        raise CorruptStoreError(path, "is a directory, not a SQLite database") from None
    except PermissionError:
        raise StorePermissionError(path, "read") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if not header:
        return FileState.EMPTY
    if header != _SQLITE_MAGIC:
        raise CorruptStoreError(path, "is not a SQLite database, so not a raeburnmemory store")
    if access is not Access.FROZEN and _settled(path):
        try:  # nothing pending beside it: read the file alone, creating no -wal or -shm
            return _look(path, Access.FROZEN)
        except StoreError as exc:
            if not isinstance(exc.__cause__, errors().Error):
                raise  # what the file holds, not how it was read
        # a writer may have started and be checkpointing meanwhile: look again, properly
    return _look(path, access)


def _settled(path: Path) -> bool:
    """Whether no write-ahead log or rollback journal lies beside the database.

    Then the database file alone holds every committed change, so reading it as immutable sees
    what a normal reader would, without creating ``-wal`` and ``-shm`` files beside it.
    """
    return not any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))


def _look(path: Path, access: Access) -> FileState:
    """Read the marks through a read-only connection opened with ``access``."""
    try:
        conn, _ = connect(
            path, busy_timeout=5.0, synchronous="NORMAL", read_only=True, access=access
        )
    except errors().Error as exc:
        raise _unreadable(path, "cannot be opened as a SQLite database", exc) from exc
    try:
        return _read_marks(conn, path)
    except errors().DatabaseError as exc:
        raise _unreadable(path, "cannot be read as a SQLite database", exc) from exc
    finally:
        conn.close()


def _unreadable(path: Path, what: str, exc: Exception) -> StoreError:
    """A permission problem as such; anything else means the file is not a usable database."""
    if is_permission_error(exc):
        return StorePermissionError(path, "read")
    return CorruptStoreError(path, f"{what}: {exc}")


def is_permission_error(exc: Exception) -> bool:
    """Whether a driver error comes from files the process may not write (or open)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_CANTOPEN)
    message = str(exc).lower()
    return any(text in message for text in ("readonly", "read-only", "unable to open", "denied"))


def _read_marks(conn: sqlite3.Connection, path: Path) -> FileState:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if not tables and application_id == 0:
        return FileState.EMPTY
    fmt = None
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        fmt = row[0] if row else None
    if application_id != APPLICATION_ID or fmt != FORMAT:
        raise CorruptStoreError(
            path, "is a SQLite database but not a raeburnmemory store (no raeburnmemory marks)"
        )
    if version > SCHEMA_VERSION:
        raise CorruptStoreError(
            path,
            f"was written with schema version {version} by a newer raeburnmemory-sqlite; this "
            f"version reads up to {SCHEMA_VERSION}: upgrade raeburnmemory-sqlite",
        )
    return FileState.CURRENT if version == SCHEMA_VERSION else FileState.OLDER


def ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty database or migrate an older one (in the caller's transaction).

    Run inside ``BEGIN IMMEDIATE`` so concurrent openers of a new file create it once.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if not has_meta:
        _create(conn)
        return
    if version > SCHEMA_VERSION:  # another process upgraded it since we looked
        raise CorruptStoreError(
            path, f"was upgraded to schema version {version} by a newer raeburnmemory-sqlite"
        )
    while version < SCHEMA_VERSION:
        _MIGRATIONS[version](conn)
        version += 1
        _set_version(conn, version)


def _create(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    set_meta(conn, "format", FORMAT)
    set_meta(conn, "interactions", "0")
    set_meta(conn, "fts_seq", "0")
    _set_version(conn, 1)
    for version in range(1, SCHEMA_VERSION):
        _MIGRATIONS[version](conn)
        _set_version(conn, version + 1)


def _set_version(conn: sqlite3.Connection, version: int) -> None:
    conn.execute(f"PRAGMA user_version = {int(version)}")
    set_meta(conn, "schema_version", str(version))
