"""The keys file: read whole or refused whole, with a message naming the file and the entry."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from raeburnmemory.api import Settings
from raeburnmemory.api.keys import DEFAULT_NAMESPACE, SCOPES, KeyRing
from raeburnmemory.api.namespaces import namespace_settings
from raeburnmemory.api.testing import StartServer
from raeburnmemory.core.errors import ConfigurationError

DIGEST = hashlib.sha256(b"s3cret").hexdigest()
GOOD = {"name": "ana", "sha256": DIGEST, "namespace": "team_a", "scopes": ["read"]}


def _json(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_toml_file_grants_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(
        f'[[keys]]\nname = "ana"\nsha256 = "{DIGEST}"\nnamespace = "team_a"\n'
        'scopes = ["read", "write"]\n',
        encoding="utf-8",
    )
    ring = Settings(api_keys_file=path).key_ring()
    grant = ring.grant_for("s3cret")
    assert grant is not None
    assert (grant.namespace, grant.scopes) == ("team_a", frozenset({"read", "write"}))
    assert ring.grant_for("other") is None
    assert ring.namespaces() == [DEFAULT_NAMESPACE, "team_a"]


def test_the_single_key_joins_the_file_with_every_scope(tmp_path: Path) -> None:
    ring = Settings(api_key="solo", api_keys_file=_json(tmp_path, {"keys": [GOOD]})).key_ring()
    solo = ring.grant_for("solo")
    assert solo is not None
    assert (solo.namespace, solo.scopes) == (DEFAULT_NAMESPACE, frozenset(SCOPES))


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({**GOOD, "sha256": "abc"}, "sha256 must be the 64 hex digits"),
        ({**GOOD, "namespace": "../etc"}, "namespace '../etc' is not"),
        ({**GOOD, "namespace": "Team"}, "namespace 'Team' is not"),
        ({**GOOD, "scopes": ["read", "root"]}, "scopes must be a non-empty list"),
        ({**GOOD, "scopes": []}, "scopes must be a non-empty list"),
        ({**GOOD, "key": "s3cret"}, "unknown fields ['key']"),
        ("s3cret", "must be a table"),
    ],
)
def test_a_bad_entry_is_named_with_its_file(tmp_path: Path, entry: Any, says: str) -> None:
    path = _json(tmp_path, {"keys": [GOOD | {"sha256": "0" * 64, "name": "bo"}, entry]})
    with pytest.raises(ConfigurationError) as caught:
        KeyRing.load(path)
    message = str(caught.value)
    assert message.startswith(f"RAEBURN_API_KEYS_FILE {path}: keys[1]"), message
    assert says in message


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("keys.json", '{"keys": [', "is not valid JSON"),
        ("keys.toml", "[[keys]\n", "is not valid TOML"),
        ("keys.json", '{"key": []}', "must hold a list 'keys'"),
        ("keys.json", json.dumps({"keys": [GOOD, GOOD]}), "keys[1] (ana): the same key is listed"),
    ],
)
def test_a_bad_file_is_refused_whole(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"RAEBURN_API_KEYS_FILE") as caught:
        KeyRing.load(path)
    assert str(path) in str(caught.value)
    assert says in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Settings(api_keys_file=tmp_path / "none.json").key_ring()


def test_the_variable_is_read() -> None:
    settings = Settings.from_env({"RAEBURN_API_KEYS_FILE": "~/keys.toml"})
    assert settings.api_keys_file == Path("~/keys.toml").expanduser()


def test_a_namespace_store_is_a_file_or_a_schema(tmp_path: Path) -> None:
    files = namespace_settings(Settings(db_path=tmp_path / "graph.db"), "team_a")
    assert files.db_path == tmp_path / "namespaces" / "team_a.db"
    postgres = Settings(storage_backend="postgres", options={"schema": "mem"})
    assert namespace_settings(postgres, "team_a").options["schema"] == "mem_team_a"
    named = Settings(db_path=tmp_path / "g.json", options={"collection": "c"})
    assert namespace_settings(named, "team_a").options["collection"] == "c_team_a"
    assert namespace_settings(files, DEFAULT_NAMESPACE) is files


def test_a_server_with_a_bad_keys_file_does_not_start(
    tmp_path: Path, start_server: StartServer
) -> None:
    path = _json(tmp_path, {"keys": [GOOD, {**GOOD, "sha256": "1" * 64, "scopes": ["all"]}]})
    server = start_server({"RAEBURN_API_KEYS_FILE": str(path)}, workers=1, wait=False)
    assert server.wait_exit(60) == 3  # uvicorn's start-up failure status
    output = server.output()
    assert f"raeburnmemory API cannot start: RAEBURN_API_KEYS_FILE {path}: keys[1] (ana)" in output
    assert "Traceback" not in output
    assert not (tmp_path / "store0" / "namespaces").exists()  # no store was opened


def test_a_keys_file_server_refuses_an_unknown_key(
    tmp_path: Path, start_server: StartServer
) -> None:
    path = _json(tmp_path, {"keys": [GOOD]})
    url = start_server({"RAEBURN_API_KEYS_FILE": str(path)}, workers=1).url
    assert httpx.get(url + "/memory/stats").status_code == 401
    assert (
        httpx.get(url + "/memory/stats", headers={"Authorization": "Bearer x"}).status_code == 401
    )
    ok = httpx.get(url + "/memory/stats", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200, ok.text
