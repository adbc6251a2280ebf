"""Where the Qdrant vectors of a store live: a server by URL, or a local folder beside the store.

The options ``qdrant_url``, ``qdrant_api_key`` and ``collection`` of ``MemoryGraph(**options)``
win over the environment variables ``RAEBURN_QDRANT_URL`` and ``RAEBURN_QDRANT_API_KEY``. With no
URL at all, Qdrant runs embedded (Qdrant Edge) in the folder ``<store file>.qdrant/``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.options import Text, parse_options

__all__ = ["API_KEY_ENV", "OPTIONS", "URL_ENV", "QdrantSettings", "resolve_settings"]

#: Environment variable naming the Qdrant server when the ``qdrant_url`` option is not given.
URL_ENV = "RAEBURN_QDRANT_URL"
#: Environment variable holding the API key when the ``qdrant_api_key`` option is not given.
API_KEY_ENV = "RAEBURN_QDRANT_API_KEY"

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_VALID_COLLECTION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")
_SHARED_LOCAL_FOLDER = Path("~/.raeburnbrain/qdrant")


@dataclass(frozen=True)
class QdrantSettings:
    """A resolved Qdrant target: exactly one of ``url`` and ``path`` is set."""

    collection: str
    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    path: Path | None = None

    @property
    def local(self) -> bool:
        """True for embedded Qdrant Edge (a folder), False for a server."""
        return self.path is not None

    @property
    def where(self) -> str:
        """The server URL or local folder, for messages (never the API key)."""
        return str(self.path) if self.path is not None else str(self.url)


#: The options of the Qdrant vector index.
OPTIONS = (
    Text("qdrant_url", env=URL_ENV),
    Text("qdrant_api_key", env=API_KEY_ENV),
    Text("collection"),
)


def _is_file_location(location: str) -> bool:
    return "://" not in location and bool(location.strip())


def _sanitize(text: str) -> str:
    return _NAME_CHARS.sub("_", text).strip("_")[:48] or "raeburnmemory"


def _default_collection(location: str, *, dedicated_folder: bool) -> str:
    """The store's file name, made safe for Qdrant.

    A folder beside the store holds only that store's collection, so the plain name is enough.
    Anywhere shared (a server, the common local folder), a short hash of the store's location is
    appended so two stores with the same file name never share a collection.
    """
    if _is_file_location(location):
        base = Path(location).name
    else:
        base = urlsplit(location).path.rsplit("/", 1)[-1] or urlsplit(location).hostname or ""
    name = _sanitize(base.replace(".", "_"))
    if dedicated_folder:
        return name
    digest = hashlib.sha256(location.encode("utf-8")).hexdigest()[:10]
    return f"{name}-{digest}"


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"qdrant_url {url!r} is not a server URL; give one like http://localhost:6333"
        )
    return url.rstrip("/")


def resolve_settings(location: str, options: Mapping[str, Any]) -> QdrantSettings:
    """Resolve the options (and environment) into a target for the store at ``location``.

    ``location`` is the store's ``location``: a file path for file stores, a redacted URL for
    database servers. A database store has no folder beside it, so without a URL its vectors go
    to the shared local folder ``~/.raeburnbrain/qdrant``.
    """
    parsed = parse_options("qdrant index", OPTIONS, options, unknown="ignore")
    url, api_key, collection = parsed["qdrant_url"], parsed["qdrant_api_key"], parsed["collection"]
    if collection is not None and not _VALID_COLLECTION.fullmatch(collection):
        raise ConfigurationError(
            f"collection {collection!r} is not a valid Qdrant collection name "
            "(use letters, digits, '_', '-' and '.', at most 255 characters)"
        )
    if url is not None:
        return QdrantSettings(
            collection=collection or _default_collection(location, dedicated_folder=False),
            url=_check_url(url),
            api_key=api_key,
        )
    if _is_file_location(location):
        path = Path(location + ".qdrant").expanduser().absolute()
        dedicated = True
    else:
        path = _SHARED_LOCAL_FOLDER.expanduser().absolute()
        dedicated = False
    return QdrantSettings(
        collection=collection or _default_collection(location, dedicated_folder=dedicated),
        path=path,
    )
