"""A JSON store of the same name is imported on first use, whole or not at all."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.errors import CorruptStoreError, StoreNotFoundError
from raeburnmemory.core.registry import load_storage_backend
from raeburnmemory.core.testing import interaction, interactions
from raeburnmemory.memory_graph import MemoryGraph
from raeburnmemory.sqlite import SQLiteStore, _json_import


def _files(folder: Path) -> dict[str, str]:
    """Name -> sha256 of every file in ``folder``."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


@pytest.fixture
def json_store(tmp_path: Path) -> Path:
    """A JSON store with vectors, a link, a deletion and unfolded journal entries."""
    path = tmp_path / "mem.json"
    with MemoryGraph(str(path), embedding_model=None) as graph:
        graph.batch_add(interactions(30, sessions=3))
        graph.export()  # some in the snapshot ...
        graph.batch_add(interactions(10, start=30))  # ... and some only in the journal
        graph.link_prompts("p1", "p31", "cites")
        graph.delete_interaction("p5")
    return path


def test_the_json_store_is_imported_with_its_vectors(json_store: Path) -> None:
    folder = json_store.parent
    before = _files(folder)
    database = str(json_store.with_suffix(".db"))
    with MemoryGraph(database, embedding_model=None, storage_backend="sqlite") as graph:
        assert graph.location == str(folder / "mem.db")
        assert graph.stats()["interactions"] == 39
        assert graph.get_similar_prompts(interaction(31).prompt_text, 1) == ["p31"]
    after = _files(folder)
    assert {name: after[name] for name in before} == before
    assert sorted(set(after) - set(before)) == ["mem.db"]
    source = load_storage_backend("json").open(str(json_store), create=False)
    with source, SQLiteStore.open(database, create=False) as target:
        assert list(target.iter_interactions()) == list(source.iter_interactions())
        assert target.links() == source.links()
        assert target.encoder_info() == source.encoder_info()
        stored, copied = source.load_vectors(), target.load_vectors()
        order = [copied.ids.index(pid) for pid in stored.ids]
        np.testing.assert_array_equal(copied.vectors[order], stored.vectors)
        assert [copied.payloads[i] for i in order] == stored.payloads


def test_the_import_happens_once(json_store: Path) -> None:
    database = str(json_store.with_suffix(".db"))
    with SQLiteStore.open(database) as store:
        store.add([interaction(500)], None)
    with MemoryGraph(str(json_store), embedding_model=None) as graph:
        graph.batch_add(interactions(5, start=600))  # the JSON store moves on by itself
    with SQLiteStore.open(database) as store:
        assert store.count() == 40
        assert store.get("p500") is not None
        assert store.get("p600") is None


def test_an_unreadable_json_store_leaves_no_database(json_store: Path) -> None:
    json_store.write_text('{"nodes": [')
    before = _files(json_store.parent)
    with pytest.raises(CorruptStoreError, match=r"mem\.json"):
        SQLiteStore.open(str(json_store.with_suffix(".db")))
    assert _files(json_store.parent) == before


def test_a_failed_import_leaves_no_half_filled_database(
    json_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _files(json_store.parent)
    real_copy = _json_import.copy_store
    batches: list[int] = []

    def failing_copy(source: Any, target: Any, **kwargs: Any) -> int:
        def progress(done: int, total: int) -> None:
            batches.append(done)
            if len(batches) == 2:
                raise OSError(28, "No space left on device")

        return real_copy(source, target, batch_size=8, progress=progress)

    monkeypatch.setattr(_json_import, "copy_store", failing_copy)
    with pytest.raises(OSError, match="No space left"):
        SQLiteStore.open(str(json_store.with_suffix(".db")))
    assert batches == [8, 16]
    assert _files(json_store.parent) == before  # no database, no temporary file
    monkeypatch.undo()
    with SQLiteStore.open(str(json_store.with_suffix(".db"))) as store:
        assert store.count() == 39


def test_processes_opening_at_once_import_once(json_store: Path) -> None:
    code = f"""
from raeburnmemory.sqlite import SQLiteStore
with SQLiteStore.open({str(json_store.with_suffix(".db"))!r}) as store:
    print(store.count(), len(store.load_vectors()))
"""
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for _ in range(3)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert out.split() == ["39", "39"]
    assert sorted(p.name for p in json_store.parent.iterdir() if ".db" in p.name) == ["mem.db"]


def test_a_read_imports_nothing(json_store: Path) -> None:
    before = _files(json_store.parent)
    with pytest.raises(StoreNotFoundError):
        SQLiteStore.open(str(json_store.with_suffix(".db")), create=False)
    assert _files(json_store.parent) == before


def test_a_json_file_that_is_not_a_store_is_left_alone(tmp_path: Path) -> None:
    settings = tmp_path / "notes.json"
    settings.write_text('{"theme": "dark"}')
    with SQLiteStore.open(str(tmp_path / "notes.db")) as store:
        assert store.count() == 0
    assert settings.read_text() == '{"theme": "dark"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db", "notes.json"]
