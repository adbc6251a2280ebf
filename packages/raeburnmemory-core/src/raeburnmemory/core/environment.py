"""The store a server opens, read from the ``RAEBURN_*`` environment variables they all share.

The HTTP API and the MCP server describe their store with the same variables, so one environment
configures both; each adds settings of its own on top of :class:`StoreSettings`. A value that
cannot be used raises :class:`~raeburnmemory.core.errors.ConfigurationError` whose message
starts with the variable's name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.registry import load_storage_backend, load_vector_backend

__all__ = ["STORE_ENVIRONMENT", "StoreSettings", "env_json_object", "env_text"]

#: Each variable that chooses the store, with what it sets.
STORE_ENVIRONMENT: dict[str, str] = {
    "RAEBURN_DB_PATH": "path of the store (default ~/.raeburnbrain/graph.json)",
    "RAEBURN_STORAGE_BACKEND": "storage backend: json (default), sqlite or postgres",
    "RAEBURN_VECTOR_BACKEND": "vector backend (default: the store's choice)",
    "RAEBURN_EMBED_MODEL": "sentence-transformers model name, or none for the offline encoder",
    "RAEBURN_QDRANT_URL": "URL of a Qdrant server, with the qdrant vector backend",
    "RAEBURN_POSTGRES_DSN": "connection string, with the postgres storage backend",
    "RAEBURN_STORE_OPTIONS": 'JSON object of further store and index options, e.g. {"fsync": true}',
}


def env_text(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value without surrounding blanks, or ``None`` when unset or blank."""
    value = env.get(name, "").strip()
    return value or None


def env_json_object(env: Mapping[str, str], name: str) -> dict[str, Any]:
    """The variable read as a JSON object of options (``{}`` when unset)."""
    raw = env_text(env, name)
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


@dataclass(frozen=True)
class StoreSettings:
    """Which store to open, with which backends, encoder and options."""

    #: A file path, or a URL for stores on a server (``postgresql://...``).
    db_path: Path | str | None = None
    storage_backend: str = "json"
    vector_backend: str | None = None
    embedding_model: str | None = None
    qdrant_url: str | None = None
    postgres_dsn: str | None = None
    #: Further keyword options passed to ``MemoryGraph``.
    options: Mapping[str, Any] = field(default_factory=dict)

    @staticmethod
    def fields_from_env(env: Mapping[str, str]) -> dict[str, Any]:
        """The store's fields as the variables of :data:`STORE_ENVIRONMENT` set them."""
        return {
            "db_path": _location(env_text(env, "RAEBURN_DB_PATH")),
            "storage_backend": env_text(env, "RAEBURN_STORAGE_BACKEND") or "json",
            "vector_backend": env_text(env, "RAEBURN_VECTOR_BACKEND"),
            "embedding_model": env_text(env, "RAEBURN_EMBED_MODEL"),
            "qdrant_url": env_text(env, "RAEBURN_QDRANT_URL"),
            "postgres_dsn": env_text(env, "RAEBURN_POSTGRES_DSN"),
            "options": env_json_object(env, "RAEBURN_STORE_OPTIONS"),
        }

    def check_store(self) -> None:
        """Raise ``ConfigurationError`` naming the variable of the first unusable store value."""
        if self.qdrant_url and not self.qdrant_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"RAEBURN_QDRANT_URL={self.qdrant_url!r} must start with http:// or https://"
            )
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
