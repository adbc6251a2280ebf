"""Scoped keys on a real server: each key sees only its namespace and does only what it may.

Every route of the OpenAPI document is called with a key of another namespace and with keys
lacking the route's scope; none of the answers holds anything of the first namespace.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from raeburnmemory.api import Settings, create_app
from raeburnmemory.api.testing import Server, StartServer

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

# The keys, and what the keys file grants them.
KEYS: dict[str, tuple[str, list[str]]] = {
    "alpha-admin": ("alpha", ["read", "write", "admin"]),
    "beta-admin": ("beta", ["read", "write", "admin"]),
    "beta-read": ("beta", ["read"]),
    "beta-write": ("beta", ["write"]),
    "alpha-no-admin": ("alpha", ["read", "write"]),
    "alpha-no-write": ("alpha", ["read", "admin"]),
    "alpha-no-read": ("alpha", ["write", "admin"]),
}
# What a route needs, as the documentation says; anything else is a read.
NEEDS = {
    "post /memory/interactions": "write",
    "post /memory/interactions/batch": "write",
    "patch /memory/interactions/{prompt_id}": "write",
    "post /memory/forget": "admin",
}
SECRET = "alphasecretmarker"


def write_keys_file(path: Path, keys: dict[str, tuple[str, list[str]]] = KEYS) -> Path:
    """A keys file listing ``keys`` by their SHA-256."""
    entries = [
        {
            "name": key,
            "sha256": hashlib.sha256(key.encode()).hexdigest(),
            "namespace": namespace,
            "scopes": scopes,
        }
        for key, (namespace, scopes) in keys.items()
    ]
    path.write_text(json.dumps({"keys": entries}), encoding="utf-8")
    return path


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _body(index: int, session: str) -> dict[str, Any]:
    return {
        "prompt": {"id": f"a-p{index}", "text": f"{SECRET} question {index}"},
        "response": {"id": f"a-r{index}", "text": f"{SECRET} answer {index}"},
        "agent": {"id": f"{SECRET}-agent", "name": "Alpha"},
        "session_id": session,
        "metadata": {"tag": SECRET},
    }


def _beta_body(index: int) -> dict[str, Any]:
    return {
        "prompt": {"id": f"b-p{index}", "text": f"beta question {index}"},
        "response": {"id": f"b-r{index}", "text": "beta answer"},
        "agent": {"id": "beta-agent"},
        "session_id": "beta-session",
    }


def _request_body(method: str, path: str) -> dict[str, Any] | None:
    if method == "post" and path == "/memory/interactions":
        return _beta_body(9)
    if method == "post" and path == "/memory/interactions/batch":
        return {"interactions": [_beta_body(8)]}
    if method == "post" and path == "/memory/similar":
        return {"text": "question 1", "top_k": 5}
    if method == "patch":
        return {"metadata": {"changed": True}}
    if method == "post" and path == "/memory/forget":
        return {"session_id": "alpha-session"}
    return None


def _routes() -> list[tuple[str, str]]:
    """Every ``(method, path)`` of the OpenAPI document under ``/memory``."""
    document = create_app(Settings(embedding_model="none")).openapi()
    routes = [
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/memory")
    ]
    assert len(routes) >= 10, routes
    return routes


def _filled(path: str) -> str:
    """The path with alpha's ids in its parameters (the ids themselves are no secret)."""
    path = path.replace("{prompt_id}", "a-p1")
    return re.sub(r"\{[a-z_]+\}", "alpha-session", path)


def _call(url: str, key: str, method: str, path: str) -> httpx.Response:
    body = _request_body(method, path)
    return httpx.request(
        method.upper(),
        url + _filled(path),
        headers=_bearer(key),
        json=body,
        params={"session_id": "alpha-session"} if path == "/memory/graph" else None,
        timeout=30,
    )


def _leaks(response: httpx.Response) -> bool:
    headers = json.dumps(dict(response.headers))
    return SECRET in response.text or SECRET in headers


@pytest.fixture
def server(tmp_path: Path, start_server: StartServer) -> str:
    """A server with two namespaces, alpha holding two interactions."""
    keys = write_keys_file(tmp_path / "keys.json")
    started = start_server({"RAEBURN_API_KEYS_FILE": str(keys)}, workers=1)
    for index in (1, 2):
        answer = httpx.post(
            started.url + "/memory/interactions",
            json=_body(index, "alpha-session"),
            headers=_bearer("alpha-admin"),
        )
        assert answer.status_code == 201, answer.text
    answer = httpx.post(
        started.url + "/memory/interactions", json=_beta_body(0), headers=_bearer("beta-write")
    )
    assert answer.status_code == 201, answer.text
    return started.url


def test_another_namespace_sees_nothing_of_alpha(server: str) -> None:
    for method, path in _routes():
        answer = _call(server, "beta-admin", method, path)
        where = f"{method.upper()} {path}: {answer.status_code} {answer.text[:300]}"
        assert not _leaks(answer), where
        if "{" in path or path == "/memory/graph":  # it names alpha's ids
            assert answer.status_code == 404, where
        else:
            assert answer.status_code < 300, where
    # alpha's memory is whole, and beta's writes went to beta only.
    alpha = httpx.get(server + "/memory/sessions", headers=_bearer("alpha-admin")).json()
    beta = httpx.get(server + "/memory/sessions", headers=_bearer("beta-read")).json()
    assert alpha["sessions"] == ["alpha-session"]
    assert beta["sessions"] == ["beta-session"]


def test_a_key_without_the_scope_is_refused(server: str) -> None:
    lacking = {"read": "alpha-no-read", "write": "alpha-no-write", "admin": "alpha-no-admin"}
    for method, path in _routes():
        needs = "admin" if method == "delete" else NEEDS.get(f"{method} {path}", "read")
        answer = _call(server, lacking[needs], method, path)
        where = f"{method.upper()} {path} with {lacking[needs]}: {answer.status_code}"
        assert answer.status_code == 403, where
        assert answer.json()["error"]["type"] == "ForbiddenError", where
        assert not _leaks(answer), where
    # Nothing was removed by the refused deletions.
    session = httpx.get(server + "/memory/sessions/alpha-session", headers=_bearer("alpha-admin"))
    assert len(session.json()["interactions"]) == 2


def test_each_namespace_is_a_file_of_its_own(tmp_path: Path, server: str) -> None:
    folder = tmp_path / "store0" / "namespaces"
    assert {"alpha.json", "beta.json"} <= {path.name for path in folder.iterdir()}

    def holds_secret(prefix: str) -> bool:
        files = [path for path in folder.glob(prefix + "*") if path.is_file()]
        return any(SECRET.encode() in path.read_bytes() for path in files)

    assert holds_secret("alpha")
    assert not holds_secret("beta")


def test_the_single_key_still_has_every_scope_on_the_default_store(
    tmp_path: Path, start_server: StartServer
) -> None:
    started = start_server({"RAEBURN_API_KEY": "only"}, workers=1)
    added = httpx.post(
        started.url + "/memory/interactions", json=_body(1, "s"), headers=_bearer("only")
    )
    assert added.status_code == 201, added.text
    removed = httpx.delete(started.url + "/memory/sessions/s", headers=_bearer("only"))
    assert removed.status_code == 200, removed.text
    assert not (tmp_path / "store0" / "namespaces").exists()


def test_without_the_mcp_distribution_there_is_no_mcp_route(tmp_path: Path) -> None:
    def hidden_mcp(port: int, workers: int) -> list[str]:
        code = (
            "import sys; sys.modules['raeburnmemory.mcp'] = None; sys.modules['mcp'] = None; "
            "import uvicorn; sys.argv = ['uvicorn', *sys.argv[1:]]; uvicorn.main()"
        )
        return [
            sys.executable, "-c", code, "raeburnmemory.api:app",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip

    env = {
        "RAEBURN_EMBED_MODEL": "none",
        "RAEBURN_DB_PATH": str(tmp_path / "store" / "graph.json"),
        "RAEBURN_RATE_LIMIT_DB": str(tmp_path / "limits.sqlite3"),
        "RAEBURN_API_KEY": "k",
        "TMPDIR": str(tmp_path),
        "XDG_RUNTIME_DIR": "",
    }
    server = Server(env, 1, tmp_path / "server.log", hidden_mcp)
    try:
        server.wait_ready()
        answer = httpx.post(server.url + "/mcp", json={}, headers={"Authorization": "Bearer k"})
        assert answer.status_code == 404, answer.text
        assert httpx.get(server.url + "/memory/stats", headers={"Authorization": "Bearer k"})
    finally:
        server.stop()


def test_postgres_namespaces_are_schemas_of_their_own(
    tmp_path: Path, start_server: StartServer, request: pytest.FixtureRequest
) -> None:
    dsn = request.getfixturevalue("api_pg_dsn")
    psycopg = pytest.importorskip("psycopg")
    env = {
        "RAEBURN_STORAGE_BACKEND": "postgres",
        "RAEBURN_POSTGRES_DSN": dsn,
        "RAEBURN_STORE_OPTIONS": '{"schema": "nstest"}',
        "RAEBURN_API_KEYS_FILE": str(write_keys_file(tmp_path / "keys.json")),
    }
    url = start_server(env, workers=1).url
    added = httpx.post(
        url + "/memory/interactions", json=_body(1, "alpha-session"), headers=_bearer("alpha-admin")
    )
    assert added.status_code == 201, added.text
    for key, expected in (("alpha-admin", ["alpha-session"]), ("beta-read", [])):
        sessions = httpx.get(url + "/memory/sessions", headers=_bearer(key)).json()
        assert sessions["sessions"] == expected, key
    missing = httpx.get(url + "/memory/interactions/a-p1", headers=_bearer("beta-read"))
    assert missing.status_code == 404
    assert SECRET not in missing.text
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'nstest%'"
        ).fetchall()
    assert {"nstest", "nstest_alpha", "nstest_beta"} <= {row[0] for row in rows}
