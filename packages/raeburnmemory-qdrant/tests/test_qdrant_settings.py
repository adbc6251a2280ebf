"""Where the vectors go: options over environment, local folders, collection names."""

from __future__ import annotations

from pathlib import Path

import pytest

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.qdrant.settings import resolve_settings


def test_without_a_url_the_folder_sits_beside_the_store(tmp_path: Path) -> None:
    settings = resolve_settings(str(tmp_path / "notes.json"), {})
    assert settings.local
    assert settings.path == tmp_path / "notes.json.qdrant"
    assert settings.collection == "notes_json"
    assert settings.where == str(tmp_path / "notes.json.qdrant")


def test_the_environment_names_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAEBURN_QDRANT_URL", "http://qdrant.internal:6333/")
    monkeypatch.setenv("RAEBURN_QDRANT_API_KEY", "s3cret")
    settings = resolve_settings("/data/graph.json", {})
    assert not settings.local
    assert (settings.url, settings.api_key) == ("http://qdrant.internal:6333", "s3cret")
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in settings.where


def test_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAEBURN_QDRANT_URL", "http://from-env:6333")
    options = {"qdrant_url": "https://cloud.example:6333", "qdrant_api_key": "k", "collection": "c"}
    settings = resolve_settings("/data/graph.json", options)
    assert (settings.url, settings.api_key, settings.collection) == (
        "https://cloud.example:6333",
        "k",
        "c",
    )


def test_server_collections_of_same_named_stores_differ() -> None:
    options = {"qdrant_url": "http://localhost:6333"}
    first = resolve_settings("/srv/a/graph.json", options).collection
    second = resolve_settings("/srv/b/graph.json", options).collection
    assert first != second
    assert first.startswith("graph_json-")
    assert second.startswith("graph_json-")
    assert resolve_settings("/srv/a/graph.json", options).collection == first


def test_a_database_store_uses_the_shared_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = resolve_settings("postgresql://app:***@db.internal:5432/memory", {})
    assert settings.path == tmp_path / ".raeburnbrain" / "qdrant"
    assert settings.collection.startswith("memory-")
    other = resolve_settings("postgresql://app:***@db.internal:5432/other", {})
    assert other.collection != settings.collection


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"qdrant_url": "localhost:6333"}, "not a server URL"),
        ({"qdrant_url": 6333}, "qdrant_url must be a string"),
        ({"collection": "a/b"}, "not a valid Qdrant collection name"),
        ({"collection": ""}, None),
    ],
)
def test_bad_options_are_refused_clearly(options: dict[str, object], match: str | None) -> None:
    if match is None:  # an empty value counts as unset
        assert resolve_settings("/d/g.json", options).collection == "g_json"
        return
    with pytest.raises(ConfigurationError, match=match):
        resolve_settings("/d/g.json", options)
