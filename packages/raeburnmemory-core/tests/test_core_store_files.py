"""Files named as stores: what they hold decides, files that are not stores are left alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from raeburnmemory.core.errors import ConfigurationError, NotAStoreError
from raeburnmemory.core.store_files import StoreFileKind, identify_store_file
from raeburnmemory.memory_graph import MemoryGraph


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("content", "kind", "message"),
    [
        (b'{"theme": "dark"}', StoreFileKind.OTHER, "is not a raeburnmemory store"),
        (b"", StoreFileKind.EMPTY, "is an empty file, not a raeburnmemory store"),
        (b"[]", StoreFileKind.OTHER, "is not a raeburnmemory store"),
        (b'{"directed": true, "nodes": [', StoreFileKind.OTHER, "is not a raeburnmemory store"),
    ],
)
@pytest.mark.parametrize("create", [True, False])
def test_a_json_file_that_is_not_a_store_is_left_alone(
    tmp_path: Path, content: bytes, kind: StoreFileKind, message: str, create: bool
) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    assert identify_store_file(path) is kind
    with pytest.raises(NotAStoreError, match=message):
        MemoryGraph(path, embedding_model=None, create=create)
    assert _files(tmp_path) == {"config.json": content}  # no lock file beside it


def test_a_sqlite_file_opened_as_json_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = _files(tmp_path)
    assert identify_store_file(path) is StoreFileKind.SQLITE
    with pytest.raises(NotAStoreError, match=r"m\.db is a SQLite database"):
        MemoryGraph(path, embedding_model=None)
    assert _files(tmp_path) == before


def test_a_real_store_is_recognised_even_when_damaged(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    with MemoryGraph(path, embedding_model=None) as graph:
        graph.add_interaction({"id": "p", "text": "hi"}, {"id": "r", "text": "x"}, {"id": "a"}, "s")
    assert identify_store_file(path) is StoreFileKind.JSON_STORE
    path.write_text('{"directed": true, "nodes": [')  # the map beside it still says what it was
    assert identify_store_file(path) is StoreFileKind.JSON_STORE


def test_a_store_with_vectors_keeps_its_encoder_when_none_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "g.json"
    with MemoryGraph(path, embedding_model="raeburn-hashing-128") as graph:
        graph.add_interaction({"id": "p", "text": "hi"}, {"id": "r", "text": "x"}, {"id": "a"}, "s")
    monkeypatch.delenv("RAEBURN_EMBED_MODEL", raising=False)
    with MemoryGraph(path) as graph:
        assert graph.encoder_name == "raeburn-hashing-128"
        assert graph.get_similar_prompts("hi") == ["p"]


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_a_blank_query_and_a_blank_prompt_are_refused(tmp_path: Path, text: str) -> None:
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as graph:
        graph.add_interaction({"id": "p", "text": "hi"}, {"id": "r", "text": "x"}, {"id": "a"}, "s")
        with pytest.raises(ConfigurationError, match="the search text is empty"):
            graph.search(text)
        with pytest.raises(ValueError, match="prompt text is empty"):
            graph.add_interaction(
                {"id": "q", "text": text}, {"id": "w", "text": "x"}, {"id": "a"}, "s"
            )
        with pytest.raises(ConfigurationError, match="from 1 to 1000"):
            graph.search("hi", top_k=1001)
