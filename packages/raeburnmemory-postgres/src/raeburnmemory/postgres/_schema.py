"""The database layout, its forward migrations and the tables that hold prompt vectors.

Tables live in one PostgreSQL schema (``raeburnmemory`` unless the ``schema`` option names
another), so several memories can share a database. ``schema_version`` records which
migrations ran; they run in one transaction under an advisory lock, so hosts that start at
the same time neither race nor half-migrate. The vector tables are made once the encoder's
dimension is known (:func:`create_vector_tables`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from raeburnmemory.core.errors import ConfigurationError, StoreError, StoreNotFoundError
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.postgres._where import METADATA_FUNCTION, METADATA_INDEX

__all__ = [
    "BUILD_MEMORY_MB",
    "DEFAULT_SCHEMA",
    "HNSW_MAX_DIM",
    "SCHEMA_VERSION",
    "Database",
    "advisory_key",
    "create_vector_index",
    "create_vector_tables",
    "has_vector_tables",
    "migrate",
    "read_encoder",
    "search_path_sql",
    "swap_vector_tables",
    "valid_schema",
    "write_encoder",
]

#: The PostgreSQL schema the tables go in when the caller names none.
DEFAULT_SCHEMA = "raeburnmemory"
#: The largest dimension pgvector's HNSW index takes for ``vector`` columns.
HNSW_MAX_DIM = 2000
#: The most memory (MB) an index build asks the server for (``maintenance_work_mem``).
BUILD_MEMORY_MB = 1024

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Text search configuration of the keyword index; prompts weigh more than responses.
_SEARCH_TEXT = (
    "setweight(to_tsvector('english'::regconfig, prompt_text), 'A') || "
    "setweight(to_tsvector('english'::regconfig, response_text), 'B')"
)
# Since version 2, where a prompt may have no response (NULL text, which || would spread).
_SEARCH_TEXT_V2 = (
    "setweight(to_tsvector('english'::regconfig, prompt_text), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(response_text, '')), 'B')"
)

_VERSION_1 = [
    """CREATE TABLE schema_version (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
    f"""CREATE TABLE interactions (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        prompt_id text NOT NULL UNIQUE,
        prompt_text text NOT NULL,
        response_id text NOT NULL UNIQUE,
        response_text text NOT NULL,
        agent_id text NOT NULL,
        agent_name text,
        session_id text NOT NULL,
        ts timestamptz NOT NULL,
        metadata json NOT NULL,
        prompt_attrs json NOT NULL,
        response_attrs json NOT NULL,
        agent_attrs json NOT NULL,
        search_text tsvector GENERATED ALWAYS AS ({_SEARCH_TEXT}) STORED)""",
    "CREATE INDEX interactions_session ON interactions (session_id, ts, seq)",
    "CREATE INDEX interactions_agent ON interactions (agent_id, seq)",
    "CREATE INDEX interactions_ts ON interactions (ts)",
    "CREATE INDEX interactions_search ON interactions USING gin (search_text)",
    """CREATE TABLE links (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        source text NOT NULL REFERENCES interactions (prompt_id) ON DELETE CASCADE,
        target text NOT NULL REFERENCES interactions (prompt_id) ON DELETE CASCADE,
        relation text NOT NULL,
        PRIMARY KEY (source, target, relation))""",
    "CREATE INDEX links_target ON links (target)",
    """CREATE TABLE changes (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        writer text NOT NULL,
        op "char" NOT NULL,
        prompt_ids text[] NOT NULL,
        at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX changes_xid ON changes (xid)",
    # the interaction count, spread over rows so concurrent writers seldom wait for each other
    "CREATE TABLE counts (shard smallint PRIMARY KEY, interactions bigint NOT NULL)",
    "INSERT INTO counts SELECT shard, 0 FROM generate_series(0, 15) AS shard",
]

# A prompt may be recorded without a response: its response id and text are NULL.
_VERSION_2 = [
    "ALTER TABLE interactions ALTER COLUMN response_id DROP NOT NULL",
    "ALTER TABLE interactions ALTER COLUMN response_text DROP NOT NULL",
    "DROP INDEX interactions_search",
    "ALTER TABLE interactions DROP COLUMN search_text",
    f"ALTER TABLE interactions ADD COLUMN search_text tsvector "
    f"GENERATED ALWAYS AS ({_SEARCH_TEXT_V2}) STORED",
    "CREATE INDEX interactions_search ON interactions USING gin (search_text)",
]

# When an interaction expires (NULL: never), indexed for the few that do.
_VERSION_3 = [
    "ALTER TABLE interactions ADD COLUMN expires_at timestamptz",
    "CREATE INDEX interactions_expiry ON interactions (expires_at) WHERE expires_at IS NOT NULL",
]

# Metadata filters' equality tests are jsonb containment, which this index answers. The
# metadata column is json, which holds any text; jsonb refuses the escape \u0000, so the
# metadata as jsonb (raeburnmemory.postgres._where.METADATA) is NULL for a record holding it:
# writing it still works, and no metadata filter selects it.
_VERSION_4 = [METADATA_FUNCTION, METADATA_INDEX]

#: Forward migrations: version -> statements, applied in order.
_MIGRATIONS: dict[int, list[str]] = {1: _VERSION_1, 2: _VERSION_2, 3: _VERSION_3, 4: _VERSION_4}
#: The layout this code reads and writes.
SCHEMA_VERSION = max(_MIGRATIONS)


@dataclass(frozen=True)
class Database:
    """What opening found out about the database."""

    schema: str
    extension_schema: str
    pgvector_version: tuple[int, ...]

    @property
    def iterative_scans(self) -> bool:
        """Whether pgvector can continue an HNSW scan until enough filtered rows pass."""
        return self.pgvector_version >= (0, 8)


def valid_schema(name: object) -> str:
    """The schema name, checked to be a plain SQL identifier."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ConfigurationError(
            f"schema {name!r} is not a plain identifier (letters, digits and _, at most 63)"
        )
    return name


def advisory_key(schema: str, purpose: str) -> int:
    """A 64-bit advisory lock key for one purpose on one schema."""
    digest = hashlib.blake2b(f"raeburnmemory:{schema}:{purpose}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _stored_version(conn: psycopg.Connection[Any], schema: str) -> int | None:
    # A plain query of pg_class, not to_regclass: name lookups go through a cache that an
    # advisory lock does not refresh, so right after waiting on the migrate lock to_regclass
    # can still miss the table the previous holder just created.
    row = conn.execute(
        "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = 'schema_version'",
        (schema,),
    ).fetchone()
    if not row:
        return None
    found = conn.execute(
        sql.SQL("SELECT max(version) FROM {}.schema_version").format(sql.Identifier(schema))
    ).fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def _extension(conn: psycopg.Connection[Any]) -> tuple[str, tuple[int, ...]] | None:
    row = conn.execute(
        "SELECT extnamespace::regnamespace::text, extversion FROM pg_extension "
        "WHERE extname = 'vector'"
    ).fetchone()
    if row is None:
        return None
    version = tuple(int(part) for part in re.findall(r"\d+", str(row[1]))[:3])
    return str(row[0]).strip('"'), version


def _create_extension(conn: psycopg.Connection[Any]) -> tuple[str, tuple[int, ...]]:
    """Enable pgvector in the database, once, however many hosts start at the same moment.

    Two sessions running ``CREATE EXTENSION IF NOT EXISTS`` at once both find it missing and the
    second fails on a duplicate key; so sessions of this library take turns on a database-wide
    advisory lock, and a duplicate caused by anyone else only means the extension is there.
    """
    database = conn.info.dbname
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("", "extension"),))
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.UniqueViolation:
        pass  # created by a session that did not take the lock, between our check and ours
    except psycopg.errors.InsufficientPrivilege:
        raise StoreError(
            f"the pgvector extension is not enabled in database {database!r} and this user may "
            "not enable it; ask a database administrator to connect to that database and run: "
            "CREATE EXTENSION vector;"
        ) from None
    except (psycopg.errors.UndefinedFile, psycopg.errors.FeatureNotSupported) as exc:
        raise StoreError(
            f"the PostgreSQL server of database {database!r} does not have pgvector installed "
            f"({exc.diag.message_primary}); install pgvector on the server "
            "(https://github.com/pgvector/pgvector), then run: CREATE EXTENSION vector;"
        ) from None
    found = _extension(conn)
    if found is None:  # pragma: no cover - CREATE EXTENSION succeeded
        raise StoreError("CREATE EXTENSION vector succeeded but the extension is not listed")
    return found


def _refuse_newer(conn: psycopg.Connection[Any], schema: str, version: int | None) -> None:
    """Raise ``StoreError`` for a layout newer than this code reads, naming schema and database.

    The database is named by its name alone (never the connection string, which may hold a
    password).
    """
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"schema {schema!r} of database {conn.info.dbname!r} was written by a newer "
            f"raeburnmemory (layout version {version}, this one reads {SCHEMA_VERSION}); "
            "upgrade raeburnmemory-postgres"
        )


def migrate(conn: psycopg.Connection[Any], schema: str, *, create: bool) -> Database:
    """Bring the schema up to :data:`SCHEMA_VERSION`; only reads when it is there already.

    ``conn`` is in autocommit mode. With ``create=False`` a missing schema raises
    :class:`StoreNotFoundError`.
    """
    version = _stored_version(conn, schema)
    extension = _extension(conn)
    if version is None and not create:
        raise StoreNotFoundError(
            f"no raeburnmemory store in schema {schema!r} of database {conn.info.dbname!r}"
        )
    _refuse_newer(conn, schema, version)
    if version != SCHEMA_VERSION or extension is None:
        if extension is None:
            extension = _create_extension(conn)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(schema, "migrate"),))
            version = _stored_version(conn, schema) or 0
            _refuse_newer(conn, schema, version)  # another host may have upgraded it meanwhile
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(search_path_sql(schema, extension[0]))
            for number in sorted(_MIGRATIONS):
                if number <= version:
                    continue
                for statement in _MIGRATIONS[number]:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
            conn.execute("SET LOCAL search_path TO DEFAULT")
    return Database(schema, extension[0], extension[1])


def search_path_sql(schema: str, extension_schema: str, *, local: bool = True) -> sql.Composed:
    """``SET [LOCAL] search_path`` to the store's schema, then pgvector's."""
    names = [sql.Identifier(schema)]
    if extension_schema != schema:
        names.append(sql.Identifier(extension_schema))
    head = "SET LOCAL search_path TO " if local else "SET search_path TO "
    return sql.SQL(head) + sql.SQL(", ").join(names)


def create_vector_tables(conn: psycopg.Connection[Any], dim: int, *, prefix: str = "") -> None:
    """Create ``vectors`` (HNSW-indexed) and ``pending_vectors`` for ``dim`` dimensions.

    New vectors go to ``pending_vectors`` when written in bulk and are moved into the index in
    the background, so a large batch costs a COPY, not an index insert per row. ``prefix``
    names a replacement set built beside the live one.
    """
    for table in (f"{prefix}vectors", f"{prefix}pending_vectors"):
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (prompt_id text PRIMARY KEY, session_id text NOT NULL, "
                "agent_id text NOT NULL, ts timestamptz NOT NULL, embedding vector({}) NOT NULL)"
            ).format(sql.Identifier(table), sql.Literal(dim))
        )


def create_vector_index(conn: psycopg.Connection[Any], dim: int, *, prefix: str = "") -> None:
    """Build the HNSW cosine index on ``vectors`` (none past pgvector's dimension limit).

    Inside a transaction, ``maintenance_work_mem`` is raised for the build so the graph fits in
    memory (up to :data:`BUILD_MEMORY_MB`): a graph spilling out of it builds many times slower.
    """
    if dim > HNSW_MAX_DIM:
        return
    table = sql.Identifier(f"{prefix}vectors")
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
    rows = int(row[0]) if row else 0
    needed_mb = (rows * (dim * 4 + 1024) * 5 // 4) >> 20
    if rows and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        memory = max(64, min(BUILD_MEMORY_MB, needed_mb + 16))
        conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(f"{memory}MB"))
    conn.execute(
        sql.SQL(
            "CREATE INDEX {} ON {} USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        ).format(sql.Identifier(f"{prefix}vectors_hnsw"), table)
    )


def swap_vector_tables(conn: psycopg.Connection[Any], prefix: str) -> None:
    """Drop the live vector tables and put the ones built under ``prefix`` in their place."""
    conn.execute("DROP TABLE IF EXISTS vectors, pending_vectors")
    for table in ("vectors", "pending_vectors"):
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(f"{prefix}{table}"), sql.Identifier(table)
            )
        )
        conn.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(f"{prefix}{table}_pkey"), sql.Identifier(f"{table}_pkey")
            )
        )
    conn.execute(
        sql.SQL("ALTER INDEX IF EXISTS {} RENAME TO vectors_hnsw").format(
            sql.Identifier(f"{prefix}vectors_hnsw")
        )
    )


def has_vector_tables(conn: psycopg.Connection[Any]) -> bool:
    """Whether the vector tables exist (they are made when the first encoder is recorded)."""
    row = conn.execute("SELECT to_regclass('vectors') IS NOT NULL").fetchone()
    return bool(row and row[0])


def read_encoder(conn: psycopg.Connection[Any]) -> EncoderInfo | None:
    """The encoder record, or ``None`` before the first one."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'encoder'").fetchone()
    if row is None:
        return None
    name, _, dim = str(row[0]).rpartition("/")
    return EncoderInfo(name, int(dim))


def write_encoder(conn: psycopg.Connection[Any], info: EncoderInfo) -> None:
    """Record the encoder (in the caller's transaction)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('encoder', %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (f"{info.name}/{int(info.dim)}",),
    )
