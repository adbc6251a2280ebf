"""The server's configuration, read from environment variables when it starts.

A value that cannot be used raises :class:`~raeburnmemory.core.errors.ConfigurationError`
whose message starts with the variable's name, and the server does not start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raeburnmemory.api._clients import TrustedProxies
from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.registry import load_storage_backend, load_vector_backend

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ENVIRONMENT", "Settings"]

#: Largest request body accepted unless ``RAEBURN_MAX_BODY_BYTES`` says otherwise (10 MiB).
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

#: Each environment variable the server reads, with what it sets.
ENVIRONMENT: dict[str, str] = {
    "RAEBURN_DB_PATH": "path of the store (default ~/.raeburnbrain/graph.json)",
    "RAEBURN_STORAGE_BACKEND": "storage backend: json (default), sqlite or postgres",
    "RAEBURN_VECTOR_BACKEND": "vector backend (default: the store's choice)",
    "RAEBURN_EMBED_MODEL": "sentence-transformers model name, or none for the offline encoder",
    "RAEBURN_QDRANT_URL": "URL of a Qdrant server, with the qdrant vector backend",
    "RAEBURN_POSTGRES_DSN": "connection string, with the postgres storage backend",
    "RAEBURN_API_KEY": "when set, /memory routes need Authorization: Bearer <key>",
    "RAEBURN_RATE_LIMIT": "requests per minute per client IP on /memory routes (0: no limit)",
    "RAEBURN_RATE_LIMIT_DB": "SQLite file holding the rate counters shared by all workers",
    "RAEBURN_TRUSTED_PROXIES": "comma-separated IP addresses or networks of the reverse proxies "
    "whose X-Forwarded-For names the client (default: none; the client is the TCP peer)",
    "RAEBURN_MAX_BODY_BYTES": f"largest request body accepted (default {DEFAULT_MAX_BODY_BYTES})",
    "RAEBURN_STORE_OPTIONS": 'JSON object of further store and index options, e.g. {"fsync": true}',
    "RAEBURN_SEARCH_THREADS": "threads BLAS and FAISS may use for one search in a worker "
    "(default 1; 0: leave their own defaults)",
}


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _json_object(env: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = _text(env, name)
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f'{name} must be a JSON object of options, like {{"fsync": true}}')
    return value


def _location(value: str | None) -> Path | str | None:
    if value is None or "://" in value:
        return value  # a server's URL is not a file path
    return Path(value).expanduser()


def _whole_number(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigurationError(f"{name}={raw!r} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know; build it with :meth:`from_env` or by hand."""

    #: A file path, or a URL for stores on a server (``postgresql://...``).
    db_path: Path | str | None = None
    storage_backend: str = "json"
    vector_backend: str | None = None
    embedding_model: str | None = None
    qdrant_url: str | None = None
    postgres_dsn: str | None = None
    api_key: str | None = None
    rate_limit: int = 0
    rate_limit_db: Path | None = None
    #: Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``) of the reverse proxies whose
    #: ``X-Forwarded-For`` is believed; with none, the client is always the TCP peer.
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    search_threads: int = 1
    #: Further keyword options passed to ``MemoryGraph``.
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        proxies: Any = self.trusted_proxies
        if isinstance(proxies, str):  # "10.0.0.5, 10.0.0.6", as in the environment
            proxies = proxies.split(",")
        cleaned = tuple(str(item).strip() for item in proxies if str(item).strip())
        object.__setattr__(self, "trusted_proxies", cleaned)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default ``os.environ``) and check them."""
        env = os.environ if env is None else env
        db_path = _text(env, "RAEBURN_DB_PATH")
        limit_db = _text(env, "RAEBURN_RATE_LIMIT_DB")
        settings = cls(
            db_path=_location(db_path),
            storage_backend=_text(env, "RAEBURN_STORAGE_BACKEND") or "json",
            vector_backend=_text(env, "RAEBURN_VECTOR_BACKEND"),
            embedding_model=_text(env, "RAEBURN_EMBED_MODEL"),
            qdrant_url=_text(env, "RAEBURN_QDRANT_URL"),
            postgres_dsn=_text(env, "RAEBURN_POSTGRES_DSN"),
            api_key=_text(env, "RAEBURN_API_KEY"),
            rate_limit=_whole_number(env, "RAEBURN_RATE_LIMIT", 0, 0),
            rate_limit_db=Path(limit_db).expanduser() if limit_db else None,
            trusted_proxies=tuple((_text(env, "RAEBURN_TRUSTED_PROXIES") or "").split(",")),
            max_body_bytes=_whole_number(
                env, "RAEBURN_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024
            ),
            search_threads=_whole_number(env, "RAEBURN_SEARCH_THREADS", 1, 0),
            options=_json_object(env, "RAEBURN_STORE_OPTIONS"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ``ConfigurationError`` naming the variable of the first unusable value."""
        if self.rate_limit < 0:
            raise ConfigurationError(f"RAEBURN_RATE_LIMIT={self.rate_limit} must be at least 0")
        if self.max_body_bytes < 1024:
            raise ConfigurationError(
                f"RAEBURN_MAX_BODY_BYTES={self.max_body_bytes} must be at least 1024"
            )
        if self.search_threads < 0:
            raise ConfigurationError(
                f"RAEBURN_SEARCH_THREADS={self.search_threads} must be at least 0"
            )
        if self.qdrant_url and not self.qdrant_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"RAEBURN_QDRANT_URL={self.qdrant_url!r} must start with http:// or https://"
            )
        TrustedProxies(self.trusted_proxies)  # raises, naming the variable, on a bad entry
        try:
            store_cls = load_storage_backend(self.storage_backend)
        except ConfigurationError as exc:
            raise ConfigurationError(f"RAEBURN_STORAGE_BACKEND: {exc}") from exc
        vectors = self.vector_backend
        if vectors is not None and vectors not in store_cls.native_vector_backends:
            try:
                load_vector_backend(vectors)
            except ConfigurationError as exc:
                raise ConfigurationError(f"RAEBURN_VECTOR_BACKEND: {exc}") from exc

    def memory_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the ``MemoryGraph`` these settings describe."""
        kwargs: dict[str, Any] = {
            "db_path": self.db_path,
            "storage_backend": self.storage_backend,
            "vector_backend": self.vector_backend,
        }
        if self.embedding_model is not None:
            kwargs["embedding_model"] = self.embedding_model
        if self.postgres_dsn is not None and self.storage_backend == "postgres":
            kwargs["dsn"] = self.postgres_dsn
        if self.qdrant_url is not None and self.vector_backend == "qdrant":
            kwargs["qdrant_url"] = self.qdrant_url
        kwargs.update(self.options)
        return kwargs
