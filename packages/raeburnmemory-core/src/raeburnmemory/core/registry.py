"""Finds storage and vector backends through entry points.

Core never imports a backend distribution: every backend, core's own included, is registered
under the entry-point group ``raeburnmemory.storage`` or ``raeburnmemory.vectors`` and loaded the
first time it is asked for. Asking for one that is not installed raises
:class:`~raeburnmemory.core.errors.BackendNotInstalledError` naming what to install.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from raeburnmemory.core.errors import BackendNotInstalledError, ConfigurationError
from raeburnmemory.core.store import Store
from raeburnmemory.core.vectors import VectorIndex

__all__ = [
    "STORAGE_GROUP",
    "VECTORS_GROUP",
    "load_storage_backend",
    "load_vector_backend",
]

STORAGE_GROUP = "raeburnmemory.storage"
VECTORS_GROUP = "raeburnmemory.vectors"

# Where each known backend comes from: (distribution to install, extra of the meta-distribution).
_KNOWN: dict[str, dict[str, tuple[str, str]]] = {
    STORAGE_GROUP: {
        "json": ("raeburnmemory-core", ""),
        "sqlite": ("raeburnmemory-sqlite", "sqlite"),
        "postgres": ("raeburnmemory-postgres", "postgres"),
    },
    VECTORS_GROUP: {
        "numpy": ("raeburnmemory-core", ""),
        "faiss": ("'raeburnmemory-core[faiss]'", "faiss"),
        "qdrant": ("raeburnmemory-qdrant", "qdrant"),
        "sqlite-vec": ("'raeburnmemory-sqlite[sqlite-vec]'", "sqlite"),
        "pgvector": ("raeburnmemory-postgres", "pgvector"),
    },
}

_KIND = {STORAGE_GROUP: "storage", VECTORS_GROUP: "vector"}


@functools.cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


@functools.cache
def _load(group: str, name: str) -> object:
    known = _KNOWN[group].get(name)
    ep = _entry_points(group).get(name)
    if ep is None:
        if known is None:
            choices = ", ".join(sorted(set(_entry_points(group)) | set(_KNOWN[group])))
            raise ConfigurationError(
                f"unknown {_KIND[group]} backend {name!r}; known backends: {choices}"
            )
        raise BackendNotInstalledError(_KIND[group], name, known[0], known[1] or None)
    try:
        return ep.load()
    except ImportError as exc:
        dist, extra = known if known else (None, "")
        error = BackendNotInstalledError(_KIND[group], name, dist, extra or None)
        error.args = (f"{error.args[0]} ({exc})",)
        raise error from exc


def load_storage_backend(name: str) -> type[Store]:
    """The store class registered as ``name``."""
    loaded = _load(STORAGE_GROUP, name)
    if not (isinstance(loaded, type) and issubclass(loaded, Store)):
        raise ConfigurationError(f"storage backend {name!r} does not provide a Store class")
    return loaded


def load_vector_backend(name: str) -> type[VectorIndex]:
    """The vector index class registered as ``name``."""
    loaded = _load(VECTORS_GROUP, name)
    if not (isinstance(loaded, type) and issubclass(loaded, VectorIndex)):
        raise ConfigurationError(f"vector backend {name!r} does not provide a VectorIndex class")
    return loaded
