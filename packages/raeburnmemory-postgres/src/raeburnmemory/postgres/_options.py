"""The postgres store's options, checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.postgres._schema import DEFAULT_SCHEMA, valid_schema

__all__ = ["Settings", "settings"]

_DEFAULT_POOL_SIZE = 5
_DEFAULT_CONNECT_TIMEOUT = 5
_DEFAULT_EF_SEARCH = 64


@dataclass(frozen=True)
class Settings:
    """Options of one store after checking."""

    schema: str = DEFAULT_SCHEMA
    pool_size: int = _DEFAULT_POOL_SIZE
    connect_timeout: int = _DEFAULT_CONNECT_TIMEOUT
    ef_search: int = _DEFAULT_EF_SEARCH


def _whole(options: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = options.get(name, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(
            f"{name} must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def settings(options: Mapping[str, Any], dsn: str = "") -> Settings:
    """Check the options; ``connect_timeout`` falls back to the one in the connection string."""
    timeout_default = _DEFAULT_CONNECT_TIMEOUT
    if "connect_timeout" not in options and dsn:
        given = conninfo_to_dict(dsn).get("connect_timeout")
        if given is not None and str(given).strip().isdigit() and int(str(given)) > 0:
            timeout_default = int(str(given))
    return Settings(
        schema=valid_schema(options.get("schema", DEFAULT_SCHEMA)),
        pool_size=_whole(options, "pool_size", _DEFAULT_POOL_SIZE, 1, 1000),
        connect_timeout=max(2, _whole(options, "connect_timeout", timeout_default, 1, 3600)),
        ef_search=_whole(options, "ef_search", _DEFAULT_EF_SEARCH, 1, 1000),
    )
