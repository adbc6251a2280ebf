"""Where each namespace's store lives: its own file, or its own PostgreSQL schema.

The default namespace is the store the settings name. Any other namespace of a file store
(JSON, SQLite) is a file of its own under the data directory, ``<dir>/namespaces/<name><suffix>``
beside the default store; with PostgreSQL it is a schema of its own, ``<schema>_<name>``. A
Qdrant vector index follows its store: its default collection is named after the store's file,
and an explicit ``collection`` option gets ``_<name>`` appended.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar

from raeburnmemory.api.keys import DEFAULT_NAMESPACE, valid_namespace
from raeburnmemory.core.environment import StoreSettings
from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.paths import default_db_path

__all__ = ["NAMESPACES_FOLDER", "POSTGRES_DEFAULT_SCHEMA", "namespace_settings"]

#: The folder, beside the default store, holding the other namespaces' files.
NAMESPACES_FOLDER = "namespaces"
#: The schema a PostgreSQL store uses when its options name none.
POSTGRES_DEFAULT_SCHEMA = "raeburnmemory"

_S = TypeVar("_S", bound=StoreSettings)


def namespace_settings(settings: _S, namespace: str) -> _S:
    """``settings`` changed to open the store of ``namespace`` instead of the default one."""
    if namespace == DEFAULT_NAMESPACE:
        return settings
    valid_namespace(namespace)
    options = dict(settings.options)
    if "collection" in options:
        options["collection"] = f"{options['collection']}_{namespace}"
    if settings.storage_backend == "postgres":
        schema = str(options.get("schema") or POSTGRES_DEFAULT_SCHEMA)
        options["schema"] = f"{schema}_{namespace}"
        return dataclasses.replace(settings, options=options)
    location = settings.db_path
    if isinstance(location, str) and "://" in location:
        raise ConfigurationError(f"namespace {namespace!r}: the store {location!r} is not a file")
    base = Path(location) if location is not None else default_db_path()
    path = base.parent / NAMESPACES_FOLDER / f"{namespace}{base.suffix}"
    return dataclasses.replace(settings, db_path=path, options=options)
