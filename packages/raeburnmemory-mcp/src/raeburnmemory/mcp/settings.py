"""The MCP server's configuration, read from the same ``RAEBURN_*`` variables as the HTTP API.

The store, backends, encoder and store options use the HTTP API's variable names, so one
environment configures both servers; ``RAEBURN_MCP_*`` variables add what only the MCP server
has. A value that cannot be used raises :class:`~raeburnmemory.core.errors.ConfigurationError`
whose message starts with the variable's name, and the server does not start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.registry import load_storage_backend, load_vector_backend

__all__ = ["ENVIRONMENT", "McpSettings"]

#: Each environment variable the MCP server reads, with what it sets.
ENVIRONMENT: dict[str, str] = {
    "RAEBURN_DB_PATH": "path of the store (default ~/.raeburnbrain/graph.json)",
    "RAEBURN_STORAGE_BACKEND": "storage backend: json (default), sqlite or postgres",
    "RAEBURN_VECTOR_BACKEND": "vector backend (default: the store's choice)",
    "RAEBURN_EMBED_MODEL": "sentence-transformers model name, or none for the offline encoder",
    "RAEBURN_QDRANT_URL": "URL of a Qdrant server, with the qdrant vector backend",
    "RAEBURN_POSTGRES_DSN": "connection string, with the postgres storage backend",
    "RAEBURN_STORE_OPTIONS": 'JSON object of further store and index options, e.g. {"fsync": true}',
    "RAEBURN_MCP_READ_ONLY": "1 (or true, yes, on) offers only the tools that read",
    "RAEBURN_MCP_TOOL_DESCRIPTIONS": "JSON or TOML file of tool descriptions to use instead",
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name}={env[name]!r} must be 1 or 0 (true/false, yes/no, on/off)")


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


@dataclass(frozen=True)
class McpSettings:
    """Everything the MCP server needs to know; build it with :meth:`from_env` or by hand."""

    #: A file path, or a URL for stores on a server (``postgresql://...``).
    db_path: Path | str | None = None
    storage_backend: str = "json"
    vector_backend: str | None = None
    embedding_model: str | None = None
    qdrant_url: str | None = None
    postgres_dsn: str | None = None
    #: Further keyword options passed to ``MemoryGraph``.
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Offer only the tools that read; the store is opened only if it exists.
    read_only: bool = False
    #: A JSON or TOML file of tool descriptions that replace the built-in ones.
    tool_descriptions: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> McpSettings:
        """Read the settings from ``env`` (default ``os.environ``) and check them."""
        env = os.environ if env is None else env
        descriptions = _text(env, "RAEBURN_MCP_TOOL_DESCRIPTIONS")
        settings = cls(
            db_path=_location(_text(env, "RAEBURN_DB_PATH")),
            storage_backend=_text(env, "RAEBURN_STORAGE_BACKEND") or "json",
            vector_backend=_text(env, "RAEBURN_VECTOR_BACKEND"),
            embedding_model=_text(env, "RAEBURN_EMBED_MODEL"),
            qdrant_url=_text(env, "RAEBURN_QDRANT_URL"),
            postgres_dsn=_text(env, "RAEBURN_POSTGRES_DSN"),
            options=_json_object(env, "RAEBURN_STORE_OPTIONS"),
            read_only=_flag(env, "RAEBURN_MCP_READ_ONLY"),
            tool_descriptions=Path(descriptions).expanduser() if descriptions else None,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ``ConfigurationError`` naming the variable of the first unusable value."""
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
