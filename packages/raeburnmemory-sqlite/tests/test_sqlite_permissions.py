"""A database the process may not read or write: it still reads where it can, else says why.

The store runs in a real subprocess held to the files' mode bits (root's permission override is
dropped), on a database and folder chmod'ed for each case. Never ``CorruptStoreError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from raeburnmemory.core.testing import (
    assert_permission_error,
    probe_held_to_permissions,
    store_for_permissions,
)

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    """A SQLite store of five interactions, closed (no -wal or -shm left)."""
    yield from store_for_permissions(tmp_path, "graph.db", storage_backend="sqlite")


@pytest.mark.parametrize("case", ["folder", "database"])
def test_a_database_it_may_only_read_is_read_and_a_write_says_permission(
    database: Path, case: str
) -> None:
    assert sorted(p.name for p in database.parent.iterdir()) == ["graph.db"]
    (database.parent if case == "folder" else database).chmod(0o555 if case == "folder" else 0o444)
    report = probe_held_to_permissions(database, "sqlite")
    assert (report["count"], report["found"]) == (5, ["p3"])
    assert_permission_error(report, database, "write")


def test_a_database_it_may_not_read_says_permission(database: Path) -> None:
    database.chmod(0)
    assert_permission_error(
        probe_held_to_permissions(database, "sqlite", write=False), database, "read"
    )


def test_a_new_database_in_a_folder_it_may_not_write_says_permission(database: Path) -> None:
    database.parent.chmod(0o555)
    new = database.parent / "new.db"
    report = probe_held_to_permissions(new, "sqlite")
    kind, message = report["error"]
    assert kind == "StorePermissionError", message
    assert message.startswith(f"{new}: permission denied")
    assert not new.exists()
