"""What ``MemoryGraph.export`` must do on every store: never write over a file of the store.

:class:`MemoryGraphContract` includes these tests; they use its ``options`` fixture.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.errors import ExportTargetError
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.testing.data import interactions

__all__ = ["ExportContract", "fingerprint"]


def fingerprint(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder`` (links not followed): its inode and its bytes."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(folder))] = (path.stat().st_ino, path.read_bytes())
    return found


def _store_folder(options: dict[str, Any]) -> Path | None:
    """The folder of a store on local disk (``None``: the store lives on a server)."""
    db_path = options.get("db_path")
    if db_path is None or "://" in str(db_path):
        return None
    return Path(db_path).absolute().parent


def _files_of(graph: MemoryGraph, folder: Path | None) -> list[Path]:
    """Every file in the store's folder now, and every file the graph names as its own."""
    on_disk = [] if folder is None else [p for p in folder.rglob("*") if p.is_file()]
    return sorted({*on_disk, *graph.own_files()})


class ExportContract:
    """``export`` refuses every file of the store however it is named, and changes nothing."""

    def test_export_refuses_every_file_of_the_store(
        self, options: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        elsewhere = tmp_path_factory.mktemp("elsewhere")
        folder = _store_folder(options)
        with MemoryGraph(**options) as graph:
            graph.batch_add(interactions(12))
            graph.link_prompts("p0", "p7", "see_also")
            graph.get_similar_prompts("bake bread", 3)  # any vector index is built now
            expected = graph.node_link_data()
            files = _files_of(graph, folder)
            declared = {Path(os.path.realpath(path)) for path in graph.own_files()}
            assert folder is None or files, "a store on local disk has files"
            before = None if folder is None else fingerprint(folder)
            for number, named in enumerate(files):
                link = elsewhere / f"link-{number}.json"
                link.symlink_to(named)
                path = Path(os.path.realpath(named))
                spellings = [path, path.parent / ".." / path.parent.name / path.name, link]
                if path.is_file() and path in declared:  # not a file inside a declared folder
                    hard = elsewhere / f"hard-{number}.json"
                    os.link(path, hard)
                    spellings.append(hard)
                for target in spellings:
                    with pytest.raises(ExportTargetError, match="a file of the store"):
                        graph.export(target)
            assert graph.node_link_data() == expected
            if folder is not None:
                assert fingerprint(folder) == before
        with MemoryGraph(**options) as reopened:
            assert reopened.node_link_data() == expected

    def test_export_replaces_a_file_whole_and_never_through_a_link(
        self, options: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        out = tmp_path_factory.mktemp("out")
        existing = out / "existing.json"
        existing.write_text("an older export")
        elsewhere = out / "notes.txt"
        elsewhere.write_text("not an export")
        link = out / "link.json"
        link.symlink_to(elsewhere)
        with MemoryGraph(**options) as graph:
            graph.batch_add(interactions(3))
            graph.export(existing)
            graph.export(link)
            data = graph.node_link_data()
        assert json.loads(existing.read_text()) == data
        assert not link.is_symlink()
        assert json.loads(link.read_text()) == data
        assert elsewhere.read_text() == "not an export"
        assert sorted(p.name for p in out.iterdir()) == ["existing.json", "link.json", "notes.txt"]
