"""Finding the connection string, and describing it without its password."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from raeburnmemory.core.errors import ConfigurationError

__all__ = ["DSN_ENV", "endpoint", "redact", "resolve_dsn"]

#: Environment variable holding the connection string when no ``dsn`` option is given.
DSN_ENV = "RAEBURN_POSTGRES_DSN"

_URL = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)
_KEYWORDS = re.compile(r"^\s*\w+\s*=")
_SECRET_KEYS = frozenset({"password", "sslpassword"})
_MASK = "***"


def _looks_like_dsn(text: str) -> bool:
    return bool(_URL.match(text) or _KEYWORDS.match(text))


def resolve_dsn(location: str | None, options: Mapping[str, Any]) -> str:
    """The connection string: the ``dsn`` option, a URL given as location, else the variable."""
    given = options.get("dsn")
    if given is not None:
        if not isinstance(given, str) or not given.strip():
            raise ConfigurationError("the postgres store's dsn option must be a connection string")
        return _checked(given.strip(), "the dsn option")
    if location is not None and _looks_like_dsn(str(location)):
        return _checked(str(location).strip(), "the location")
    configured = os.environ.get(DSN_ENV, "").strip()
    if configured:
        return _checked(configured, f"${DSN_ENV}")
    raise ConfigurationError(
        "the postgres store needs a connection string: pass dsn='postgresql://user@host/db' "
        f"(or a postgresql:// URL as db_path), or set the environment variable {DSN_ENV}"
    )


def _checked(dsn: str, origin: str) -> str:
    try:
        make_conninfo(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(
            f"{origin} is not a valid PostgreSQL connection string: {exc}"
        ) from None
    return dsn


def redact(dsn: str) -> str:
    """The connection string with any password replaced by ``***``."""
    if _URL.match(dsn):
        parts = urlsplit(dsn)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hosts = netloc.rpartition("@")
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":" + _MASK
            netloc = f"{userinfo}@{hosts}"
        query = [
            (key, _MASK if key in _SECRET_KEYS else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        return urlunsplit(
            (parts.scheme, netloc, parts.path, urlencode(query, safe="/,*"), parts.fragment)
        )
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return _MASK
    return " ".join(
        f"{key}={_MASK if key in _SECRET_KEYS else value}" for key, value in params.items()
    )


def endpoint(dsn: str) -> str:
    """``host:port`` (or ``socket-directory:port``) the connection string points at."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        params = {}
    host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "")
    port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
    hosts = host.split(",") if host else ["localhost"]
    ports = port.split(",")
    if len(ports) < len(hosts):
        ports += [ports[-1]] * (len(hosts) - len(ports))
    return ",".join(
        f"{name or 'localhost'}:{number or '5432'}"
        for name, number in zip(hosts, ports, strict=True)
    )
