"""The MCP endpoint ``/mcp`` of a real API server, reached with the SDK's streamable HTTP client.

It sits behind the API's gate (key, rate limits) and serves each key's namespace with the tools
its scopes allow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from raeburnmemory.api.testing import StartServer

from .test_api_namespaces import SECRET, write_keys_file

mcp = pytest.importorskip("mcp")
pytest.importorskip("raeburnmemory.mcp.server")
httpx2 = pytest.importorskip("httpx2")

from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

# Time allowed for one exchange: a hang fails, never a slow run.
DEADLINE = 120
READ_TOOLS = {
    "search_memory",
    "session_history",
    "get_memory",
    "list_sessions",
    "memory_stats",
    "list_memories",
    "count_memories",
}
WRITE_TOOLS = {"record_memory", "update_memory"}
ADMIN_TOOLS = {"forget_memory", "forget_matching"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}


async def _session(url: str, key: str, work: Callable[[Client], Any]) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url + "/mcp", http_client=http)) as client,
    ):
        return await work(client)


def run(url: str, key: str, work: Callable[[Client], Any]) -> Any:
    """``await work(client)`` with an MCP client of ``key`` on the server, within the deadline."""

    async def main() -> Any:
        with anyio.fail_after(DEADLINE):
            return await _session(url, key, work)

    return anyio.run(main)


async def _tool_names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


def _post(url: str, key: str | None) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.post(url + "/mcp", json=INITIALIZE, headers=headers, timeout=30)


@pytest.fixture
def server(tmp_path: Path, start_server: StartServer) -> str:
    """A server with the keys of the namespace tests, alpha holding one secret memory."""
    keys = write_keys_file(tmp_path / "keys.json")
    url = start_server({"RAEBURN_API_KEYS_FILE": str(keys)}, workers=2).url
    record = {
        "prompt": f"{SECRET} question",
        "response": f"{SECRET} answer",
        "session_id": "alpha-session",
        "agent_id": "alpha-agent",
        "prompt_id": "a-p1",
    }

    async def work(client: Client) -> Any:
        result = await client.call_tool("record_memory", record)
        assert not result.is_error, result.content
        return result.structured_content

    assert run(url, "alpha-admin", work)["prompt_id"] == "a-p1"
    return url


def test_a_good_key_uses_the_tools_and_the_api_sees_the_same_store(server: str) -> None:
    async def work(client: Client) -> Any:
        found = await client.call_tool("search_memory", {"query": "question", "top_k": 3})
        return await _tool_names(client), found.structured_content

    names, found = run(server, "alpha-admin", work)
    assert names == READ_TOOLS | WRITE_TOOLS | ADMIN_TOOLS
    assert [match["prompt_id"] for match in found["matches"]] == ["a-p1"]
    answer = httpx.get(
        server + "/memory/interactions/a-p1", headers={"Authorization": "Bearer alpha-admin"}
    )
    assert answer.status_code == 200
    assert SECRET in answer.text


def test_no_key_or_a_wrong_key_is_refused(server: str) -> None:
    for key in (None, "not-a-key"):
        answer = _post(server, key)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["type"] == "AuthenticationError"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_another_namespace_sees_nothing_through_any_tool(server: str) -> None:
    calls: dict[str, dict[str, Any]] = {
        "search_memory": {"query": f"{SECRET} question", "top_k": 10},
        "session_history": {"session_id": "alpha-session"},
        "get_memory": {"prompt_id": "a-p1"},
        "list_sessions": {},
        "memory_stats": {},
        "record_memory": {
            "prompt": "beta note",
            "response": "kept",
            "session_id": "beta-session",
            "agent_id": "beta-agent",
        },
        "forget_memory": {"session_id": "alpha-session"},
        "list_memories": {"limit": 200},
        "count_memories": {"where": {"user": SECRET}},
        "update_memory": {"prompt_id": "a-p1", "metadata": {"taken": True}},
        "forget_matching": {"session_id": "alpha-session"},
    }

    async def work(client: Client) -> dict[str, str]:
        assert set(calls) == await _tool_names(client)  # every tool is walked
        answers = {}
        for name, arguments in calls.items():
            result = await client.call_tool(name, arguments)
            answers[name] = json.dumps(result.model_dump(mode="json"))
        return answers

    answers = run(server, "beta-admin", work)
    for name, answer in answers.items():
        assert SECRET not in answer, f"{name}: {answer}"
    for name in ("get_memory", "update_memory"):
        assert '"is_error": true' in answers[name].replace("isError", "is_error"), name
    # alpha's memory is whole after beta's forget_memory of the same session id.
    session = httpx.get(
        server + "/memory/sessions/alpha-session", headers={"Authorization": "Bearer alpha-admin"}
    )
    assert len(session.json()["interactions"]) == 1


def test_a_key_lacking_a_scope_has_only_the_tools_it_allows(server: str) -> None:
    expected = {
        "beta-read": READ_TOOLS,
        "beta-write": WRITE_TOOLS,
        "alpha-no-admin": READ_TOOLS | WRITE_TOOLS,
    }
    for key, tools in expected.items():

        async def work(client: Client) -> Any:
            names = await _tool_names(client)
            refused = [
                await client.call_tool("forget_memory", {"session_id": "alpha-session"}),
                await client.call_tool("forget_matching", {"session_id": "alpha-session"}),
            ]
            return names, refused

        names, refused = run(server, key, work)
        assert names == tools, key
        for answer in refused:
            assert answer.is_error, key
            assert SECRET not in json.dumps(answer.model_dump(mode="json")), key
    session = httpx.get(
        server + "/memory/sessions/alpha-session", headers={"Authorization": "Bearer alpha-admin"}
    )
    assert len(session.json()["interactions"]) == 1


def test_the_rate_limit_counts_mcp_requests_per_key(
    tmp_path: Path, start_server: StartServer
) -> None:
    keys = write_keys_file(tmp_path / "keys.json")
    env = {
        "RAEBURN_API_KEYS_FILE": str(keys),
        "RAEBURN_RATE_LIMIT": "3",
        "RAEBURN_TRUSTED_PROXIES": "127.0.0.1",
    }
    url = start_server(env, workers=1).url
    statuses = []
    for index in range(4):  # a new address each time: only the key's own count can refuse
        answer = httpx.post(
            url + "/mcp",
            json=INITIALIZE,
            headers={
                "Authorization": "Bearer alpha-admin",
                "Accept": "application/json, text/event-stream",
                "X-Forwarded-For": f"192.0.2.{index + 1}",
            },
            timeout=30,
        )
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 429], statuses
    assert "alpha-admin" in answer.json()["error"]["message"]
    assert int(answer.headers["Retry-After"]) >= 1
