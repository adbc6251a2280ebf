"""API keys: which namespace each key serves and what it may do there.

A keys file (``RAEBURN_API_KEYS_FILE``, JSON or TOML by its suffix) lists each key by the
SHA-256 hex digest of its text, never the key itself::

    [[keys]]
    name = "alice"                      # optional; shown in errors and logs
    sha256 = "9f86d081884c7d65..."      # hashlib.sha256(key.encode()).hexdigest()
    namespace = "team_a"
    scopes = ["read", "write"]

``read`` allows every route and tool that only looks, ``write`` the ones that record, and
``admin`` the ones that remove. A file that cannot be read whole is refused whole: the error
names the file and the entry, and the server does not start.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_NAMESPACE",
    "OPEN_GRANT",
    "SCOPES",
    "KeyGrant",
    "KeyRing",
    "key_digest",
    "valid_namespace",
]

#: What a key may be allowed, from the least to the most.
SCOPES = ("read", "write", "admin")
#: The namespace of ``RAEBURN_API_KEY``: the store the settings name.
DEFAULT_NAMESPACE = "default"

_NAMESPACE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_FIELDS = frozenset({"name", "sha256", "namespace", "scopes"})


def key_digest(key: str) -> str:
    """The SHA-256 hex digest of a key, as the keys file lists it."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def valid_namespace(name: object) -> str:
    """``name`` if it is a safe namespace name, else ``ConfigurationError``.

    A namespace names a file and a PostgreSQL schema, so it is 1 to 40 lowercase letters,
    digits and ``_``, starting with a letter.
    """
    if not isinstance(name, str) or not _NAMESPACE.fullmatch(name):
        raise ConfigurationError(
            f"namespace {name!r} is not 1 to 40 lowercase letters, digits and _ starting with a "
            "letter"
        )
    return name


@dataclass(frozen=True)
class KeyGrant:
    """What one key may do: its namespace and scopes; ``label`` names it in messages."""

    namespace: str
    scopes: frozenset[str]
    label: str
    #: The start of the key's digest: what its own rate limit counts under.
    key_id: str = ""

    def allows(self, scope: str) -> bool:
        """Whether the key has ``scope``."""
        return scope in self.scopes


#: What a request gets when the server has no key at all: everything, on the default namespace.
OPEN_GRANT = KeyGrant(DEFAULT_NAMESPACE, frozenset(SCOPES), "anyone")


def _parse(path: Path) -> Any:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"RAEBURN_API_KEYS_FILE {path} cannot be read: {exc}") from None
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(raw)
        return json.loads(raw)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise ConfigurationError(
            f"RAEBURN_API_KEYS_FILE {path} is not valid {kind}: {exc}"
        ) from None


def _grant(entry: object, where: str) -> tuple[str, KeyGrant]:
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"{where} must be a table with sha256, namespace and scopes")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ConfigurationError(f"{where} has unknown fields {unknown}")
    digest = entry.get("sha256")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest.lower()):
        raise ConfigurationError(f"{where}: sha256 must be the 64 hex digits of the key's SHA-256")
    try:
        namespace = valid_namespace(entry.get("namespace"))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None
    scopes = entry.get("scopes")
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s in SCOPES for s in scopes)
    ):
        raise ConfigurationError(f"{where}: scopes must be a non-empty list of {list(SCOPES)}")
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigurationError(f"{where}: name must be text")
    label = name or f"sha256:{digest.lower()[:12]}"
    digest = digest.lower()
    return digest, KeyGrant(namespace, frozenset(scopes), label, digest[:16])


class KeyRing:
    """The keys a server accepts, looked up by the SHA-256 of the key a request presents."""

    def __init__(self, grants: Mapping[str, KeyGrant] | None = None) -> None:
        self._grants = dict(grants or {})

    @classmethod
    def load(cls, path: Path, single_key: str | None = None) -> KeyRing:
        """The keys of the file at ``path``, plus ``single_key`` with every scope if given."""
        document = _parse(path)
        entries = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(entries, list):
            raise ConfigurationError(
                f"RAEBURN_API_KEYS_FILE {path} must hold a list 'keys' of entries"
            )
        grants: dict[str, KeyGrant] = {}
        for index, entry in enumerate(entries):
            named = entry.get("name") if isinstance(entry, Mapping) else None
            where = f"RAEBURN_API_KEYS_FILE {path}: keys[{index}]" + (
                f" ({named})" if isinstance(named, str) else ""
            )
            digest, grant = _grant(entry, where)
            if digest in grants:
                raise ConfigurationError(f"{where}: the same key is listed twice")
            grants[digest] = grant
        ring = cls(grants)
        return ring.with_key(single_key) if single_key is not None else ring

    def with_key(self, key: str) -> KeyRing:
        """This ring plus ``key`` with every scope on the default namespace."""
        grants = dict(self._grants)
        digest = key_digest(key)
        grants[digest] = KeyGrant(
            DEFAULT_NAMESPACE, frozenset(SCOPES), "RAEBURN_API_KEY", digest[:16]
        )
        return KeyRing(grants)

    @property
    def empty(self) -> bool:
        """Whether no key at all is configured (the server is open)."""
        return not self._grants

    def grant_for(self, key: str) -> KeyGrant | None:
        """The grant of ``key``, or ``None`` when it is not one of the ring's keys."""
        return self._grants.get(key_digest(key))

    def grants(self) -> Iterable[KeyGrant]:
        """Every distinct grant (namespace and scopes) of the ring."""
        seen = {(g.namespace, g.scopes): g for g in self._grants.values()}
        return list(seen.values())

    def namespaces(self) -> list[str]:
        """The namespaces the keys serve, the default one first."""
        names = {grant.namespace for grant in self._grants.values()} | {DEFAULT_NAMESPACE}
        return sorted(names, key=lambda name: (name != DEFAULT_NAMESPACE, name))
