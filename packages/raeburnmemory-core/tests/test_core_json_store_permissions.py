"""Store files the process may not read or write: one clear error naming the file.

The store runs in a real subprocess held to the files' mode bits (root's permission override is
dropped), on files and folders chmod'ed for each case.
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
from raeburnmemory.memory_graph import MemoryGraph

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow


def _compact_then_journal(graph: MemoryGraph) -> None:
    graph.export()
    late = {"id": "late", "text": "in the journal"}
    graph.add_interaction(late, {"id": "r-late", "text": "x"}, {"id": "a"}, "s")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    """A compacted JSON store of five interactions and one in the journal."""
    yield from store_for_permissions(
        tmp_path, "graph.json", _compact_then_journal, vector_backend="numpy"
    )


def _vectors(path: Path) -> Path:
    return next(p for p in path.parent.iterdir() if p.name.endswith((".faiss", ".npy")))


@pytest.mark.parametrize("suffix", ["", ".journal", ".map.json", "vectors"])
def test_an_unreadable_file_is_named_with_the_permission_problem(store: Path, suffix: str) -> None:
    target = _vectors(store) if suffix == "vectors" else Path(f"{store}{suffix}")
    target.chmod(0)
    assert_permission_error(probe_held_to_permissions(store, write=False), target, "read")


@pytest.mark.parametrize("case", ["journal", "folder"])
def test_a_store_it_may_only_read_still_reads_and_a_write_names_the_file(
    store: Path, case: str
) -> None:
    if case == "journal":  # the journal may not be written
        unwritable = Path(f"{store}.journal")
        unwritable.chmod(0o444)
    else:  # the lock file cannot be created
        unwritable = Path(f"{store}.lock")
        unwritable.unlink(missing_ok=True)
        store.parent.chmod(0o555)
    report = probe_held_to_permissions(store)
    assert (report["count"], report["found"]) == (6, ["p3"])
    assert_permission_error(report, unwritable, "write")


def test_a_new_store_in_a_folder_it_may_not_write(store: Path) -> None:
    store.parent.chmod(0o555)
    inner = store.parent / "inner"
    assert_permission_error(probe_held_to_permissions(inner / "graph.json"), inner, "create")
    assert not inner.exists()
