"""The postgres store's options, checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from raeburnmemory.core.options import OptionSpec, Text, WholeNumber, parse_options
from raeburnmemory.postgres._schema import DEFAULT_SCHEMA, valid_schema

__all__ = ["Settings", "settings", "specs"]

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


def specs(connect_timeout: int = _DEFAULT_CONNECT_TIMEOUT) -> tuple[OptionSpec, ...]:
    """The store's options; ``connect_timeout`` is the default connection timeout."""
    return (
        Text("dsn"),
        Text("schema", DEFAULT_SCHEMA),
        WholeNumber("pool_size", _DEFAULT_POOL_SIZE, 1, 1000),
        WholeNumber("connect_timeout", connect_timeout, 1, 3600),
        WholeNumber("ef_search", _DEFAULT_EF_SEARCH, 1, 1000),
    )


def settings(options: Mapping[str, Any], dsn: str = "") -> Settings:
    """Check the options; ``connect_timeout`` falls back to the one in the connection string."""
    timeout_default = _DEFAULT_CONNECT_TIMEOUT
    if "connect_timeout" not in options and dsn:
        given = conninfo_to_dict(dsn).get("connect_timeout")
        if given is not None and str(given).strip().isdigit() and int(str(given)) > 0:
            timeout_default = int(str(given))
    parsed = parse_options("postgres store", specs(timeout_default), options)
    return Settings(
        schema=valid_schema(parsed["schema"]),
        pool_size=parsed["pool_size"],
        connect_timeout=max(2, parsed["connect_timeout"]),
        ef_search=parsed["ef_search"],
    )
