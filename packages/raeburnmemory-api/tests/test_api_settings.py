"""Settings from the environment: defaults, every variable, and bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from raeburnmemory.api import Settings, create_app
from raeburnmemory.api.settings import DEFAULT_MAX_BODY_BYTES, ENVIRONMENT
from raeburnmemory.core.errors import ConfigurationError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.storage_backend == "json"
    assert settings.api_key is None
    assert settings.rate_limit == 0
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert settings.memory_kwargs() == {
        "db_path": None,
        "storage_backend": "json",
        "vector_backend": None,
    }


def test_every_variable(tmp_path: Path) -> None:
    env = {
        "RAEBURN_DB_PATH": str(tmp_path / "g.json"),
        "RAEBURN_STORAGE_BACKEND": "json",
        "RAEBURN_VECTOR_BACKEND": "numpy",
        "RAEBURN_EMBED_MODEL": "none",
        "RAEBURN_API_KEY": " key ",
        "RAEBURN_RATE_LIMIT": "100",
        "RAEBURN_RATE_LIMIT_DB": str(tmp_path / "limits.db"),
        "RAEBURN_MAX_BODY_BYTES": "1_048_576",
        "RAEBURN_QDRANT_URL": "http://localhost:6333",
        "RAEBURN_POSTGRES_DSN": "postgresql://x@localhost/db",
        "RAEBURN_STORE_OPTIONS": '{"fsync": true}',
        "RAEBURN_SEARCH_THREADS": "0",
        "RAEBURN_TRUSTED_PROXIES": "10.0.0.5,10.1.0.0/16",
    }
    settings = Settings.from_env(env)
    assert settings.db_path == tmp_path / "g.json"
    assert settings.api_key == "key"
    assert settings.rate_limit == 100
    assert settings.rate_limit_db == tmp_path / "limits.db"
    assert settings.max_body_bytes == 1_048_576
    assert settings.search_threads == 0
    assert settings.trusted_proxies == ("10.0.0.5", "10.1.0.0/16")
    kwargs = settings.memory_kwargs()
    assert kwargs["vector_backend"] == "numpy"
    assert kwargs["embedding_model"] == "none"
    # server addresses go only to the backends that use them
    assert kwargs["fsync"] is True
    assert "dsn" not in kwargs
    assert "qdrant_url" not in kwargs
    assert set(env) <= set(ENVIRONMENT)


def test_a_url_as_the_store_path_is_kept_as_it_is() -> None:
    url = "postgresql://memory@db.internal:5432/memory"
    settings = Settings.from_env({"RAEBURN_DB_PATH": url})
    assert settings.db_path == url
    assert settings.memory_kwargs()["db_path"] == url


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAEBURN_RATE_LIMIT", "lots"),
        ("RAEBURN_RATE_LIMIT", "-1"),
        ("RAEBURN_MAX_BODY_BYTES", "10"),
        ("RAEBURN_MAX_BODY_BYTES", "1.5"),
        ("RAEBURN_STORAGE_BACKEND", "floppy"),
        ("RAEBURN_VECTOR_BACKEND", "abacus"),
        ("RAEBURN_QDRANT_URL", "localhost:6333"),
        ("RAEBURN_STORE_OPTIONS", "{fsync: true}"),
        ("RAEBURN_STORE_OPTIONS", "[1, 2]"),
        ("RAEBURN_SEARCH_THREADS", "-2"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})


def test_start_up_stops_on_a_bad_value(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAEBURN_DB_PATH", str(tmp_path / "g.json"))
    monkeypatch.setenv("RAEBURN_RATE_LIMIT", "many")
    app = create_app()  # reads the environment only when it starts
    with pytest.raises(ConfigurationError, match="RAEBURN_RATE_LIMIT"), TestClient(app):
        pass
    assert not (tmp_path / "g.json").exists()


def test_unknown_store_option_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAEBURN_DB_PATH", str(tmp_path / "g.json"))
    monkeypatch.setenv("RAEBURN_EMBED_MODEL", "none")
    monkeypatch.setenv("RAEBURN_STORE_OPTIONS", '{"colour": "blue"}')
    with (
        pytest.raises(ConfigurationError, match=r"RAEBURN_STORE_OPTIONS.*colour"),
        TestClient(create_app()),
    ):
        pass


def test_store_options_reach_the_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAEBURN_DB_PATH", str(tmp_path / "g.json"))
    monkeypatch.setenv("RAEBURN_EMBED_MODEL", "none")
    monkeypatch.setenv("RAEBURN_VECTOR_BACKEND", "faiss")
    monkeypatch.setenv("RAEBURN_STORE_OPTIONS", '{"index": "hnsw"}')
    pytest.importorskip("faiss")
    app = create_app()
    with TestClient(app) as client:
        memory = app.state.raeburn.memory
        assert memory._keeper.options == {"index": "hnsw"}
        assert client.get("/memory/stats").status_code == 200


def test_workers_of_a_host_open_the_store_in_turn(settings: Settings) -> None:
    import json
    import threading

    from filelock import FileLock

    from raeburnmemory.api._private import state_file
    from raeburnmemory.api.runtime import _open_memory

    key = json.dumps(settings.memory_kwargs(), sort_keys=True, default=str)
    opened: list[object] = []
    with FileLock(state_file("open", key, ".lock")):  # another worker is opening the store
        worker = threading.Thread(target=lambda: opened.append(_open_memory(settings)))
        worker.start()
        worker.join(1.0)
        assert worker.is_alive()
        assert not opened
    worker.join(30)
    assert len(opened) == 1
    opened[0].close()  # type: ignore[attr-defined]
