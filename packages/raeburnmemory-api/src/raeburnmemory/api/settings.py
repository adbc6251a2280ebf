"""The server's configuration, read from environment variables when it starts.

A value that cannot be used raises :class:`~raeburnmemory.core.errors.ConfigurationError`
whose message starts with the variable's name, and the server does not start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raeburnmemory.api._clients import TrustedProxies
from raeburnmemory.api.keys import KeyRing
from raeburnmemory.core.environment import STORE_ENVIRONMENT, StoreSettings, env_text
from raeburnmemory.core.errors import ConfigurationError

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ENVIRONMENT", "Settings"]

#: Largest request body accepted unless ``RAEBURN_MAX_BODY_BYTES`` says otherwise (10 MiB).
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024

#: Each environment variable the server reads, with what it sets.
ENVIRONMENT: dict[str, str] = {
    **STORE_ENVIRONMENT,
    "RAEBURN_API_KEY": "when set, /memory routes need Authorization: Bearer <key>",
    "RAEBURN_API_KEYS_FILE": "JSON or TOML file of keys (SHA-256), each with a namespace and "
    "scopes (read, write, admin)",
    "RAEBURN_RATE_LIMIT": "requests per minute per client IP, and per key, on /memory and /mcp "
    "(0: no limit)",
    "RAEBURN_RATE_LIMIT_DB": "SQLite file holding the rate counters shared by all workers",
    "RAEBURN_TRUSTED_PROXIES": "comma-separated IP addresses or networks of the reverse proxies "
    "whose X-Forwarded-For names the client (default: none; the client is the TCP peer)",
    "RAEBURN_MAX_BODY_BYTES": f"largest request body accepted (default {DEFAULT_MAX_BODY_BYTES})",
    "RAEBURN_SEARCH_THREADS": "threads BLAS and FAISS may use for one search in a worker "
    "(default 1; 0: leave their own defaults)",
    "RAEBURN_EXPLORER": "serve the memory explorer at /ui: 1 (default) or 0",
}


def _whole_number(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env_text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigurationError(f"{name}={raw!r} must be at least {minimum}")
    return value


_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env_text(env, name)
    if raw is None:
        return default
    if raw.strip().lower() in _YES:
        return True
    if raw.strip().lower() in _NO:
        return False
    raise ConfigurationError(f"{name}={raw!r} must be 1 or 0 (true or false)")


@dataclass(frozen=True)
class Settings(StoreSettings):
    """Everything the server needs to know; build it with :meth:`from_env` or by hand."""

    api_key: str | None = None
    #: A JSON or TOML file of keys, each with its namespace and scopes (see ``keys``).
    api_keys_file: Path | None = None
    rate_limit: int = 0
    rate_limit_db: Path | None = None
    #: Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``) of the reverse proxies whose
    #: ``X-Forwarded-For`` is believed; with none, the client is always the TCP peer.
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    search_threads: int = 1
    #: Serve the memory explorer, a browser page at ``/ui`` that calls the public routes.
    explorer: bool = True

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
        limit_db = env_text(env, "RAEBURN_RATE_LIMIT_DB")
        keys_file = env_text(env, "RAEBURN_API_KEYS_FILE")
        settings = cls(
            **cls.fields_from_env(env),
            api_key=env_text(env, "RAEBURN_API_KEY"),
            api_keys_file=Path(keys_file).expanduser() if keys_file else None,
            rate_limit=_whole_number(env, "RAEBURN_RATE_LIMIT", 0, 0),
            rate_limit_db=Path(limit_db).expanduser() if limit_db else None,
            trusted_proxies=tuple((env_text(env, "RAEBURN_TRUSTED_PROXIES") or "").split(",")),
            max_body_bytes=_whole_number(
                env, "RAEBURN_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024
            ),
            search_threads=_whole_number(env, "RAEBURN_SEARCH_THREADS", 1, 0),
            explorer=_switch(env, "RAEBURN_EXPLORER", True),
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
        TrustedProxies(self.trusted_proxies)  # raises, naming the variable, on a bad entry
        self.check_store()

    def key_ring(self) -> KeyRing:
        """The keys these settings accept (read from the keys file, which must be whole)."""
        if self.api_keys_file is not None:
            return KeyRing.load(self.api_keys_file, self.api_key)
        ring = KeyRing()
        return ring.with_key(self.api_key) if self.api_key is not None else ring
