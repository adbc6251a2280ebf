"""What the SQLite store checks, imports or creates before it opens a database file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from raeburnmemory.core._os_errors import file_error
from raeburnmemory.core.errors import (
    ConfigurationError,
    NotAStoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from raeburnmemory.core.paths import default_db_path
from raeburnmemory.core.store_files import SQLITE_EXTENSIONS, StoreFileKind, identify_store_file
from raeburnmemory.sqlite._access import Access, access_for
from raeburnmemory.sqlite._driver import require_vec
from raeburnmemory.sqlite._json_import import import_json_store, json_sibling
from raeburnmemory.sqlite._schema import FileState, inspect_file

__all__ = ["database_path", "prepare_file"]


def database_path(location: str | None) -> Path:
    """``location`` exactly as given; the default store path with a SQLite extension."""
    if location is not None:
        return Path(location).expanduser().absolute()
    path = default_db_path()
    if path.suffix not in SQLITE_EXTENSIONS:
        path = path.with_suffix(".db")
    return path.absolute()


def prepare_file(
    location: str | None,
    *,
    create: bool,
    vector_backend: str | None,
    import_target: Callable[[Path], Any],
) -> tuple[Path, Access, FileState]:
    """The database's path, what this process may do with it and the state of the file.

    A missing database is imported from the JSON store of the same stem through
    ``import_target`` (an empty store at a temporary path) when there is one, else its folder is
    made; with ``create=False`` it raises ``StoreNotFoundError``. A JSON store, or an empty file
    with ``create=False``, raises ``NotAStoreError``; nothing is changed then.
    """
    if vector_backend not in (None, "sqlite-vec"):
        raise ConfigurationError(
            f"the sqlite store runs only the 'sqlite-vec' vector backend itself, not "
            f"{vector_backend!r}"
        )
    if vector_backend == "sqlite-vec":
        require_vec()
    path = database_path(location)
    if identify_store_file(path) is StoreFileKind.JSON_STORE:
        raise NotAStoreError(
            path, f"{path} is a raeburnmemory JSON store: open it with storage_backend='json'"
        )
    access = access_for(path)
    state = inspect_file(path, access)
    if state is FileState.EMPTY and not create:
        raise NotAStoreError(path, f"{path} is an empty file, not a raeburnmemory store yet")
    if state is FileState.MISSING:
        json_path = json_sibling(path)
        if not create:
            raise StoreNotFoundError(f"{path}: no raeburnmemory database here")
        if json_path != path and identify_store_file(json_path) is StoreFileKind.JSON_STORE:
            import_json_store(json_path, path, import_target)
            state = inspect_file(path)
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise file_error(path.parent, "create", exc) from exc
    if state is not FileState.CURRENT and access is not Access.WRITE:
        raise StorePermissionError(path, "write")  # to create or upgrade its tables
    return path, access, state
