"""Who the client is: the TCP peer, or what the named proxies forwarded, read from the right."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.api import Settings, create_app
from raeburnmemory.api._clients import TrustedProxies, socket_peer
from raeburnmemory.core.errors import ConfigurationError

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*starlette.testclient", category=Warning)
    from fastapi.testclient import TestClient


def _client(proxies: TrustedProxies, peer: str | None, *forwarded: str) -> str:
    return proxies.client(peer, [value.encode() for value in forwarded])


def test_with_no_proxy_named_the_peer_is_the_client() -> None:
    none = TrustedProxies()
    assert _client(none, "127.0.0.1", "6.6.6.6") == "127.0.0.1"
    assert _client(none, "::ffff:10.0.0.5", "6.6.6.6") == "10.0.0.5"
    assert _client(none, None, "6.6.6.6") == "unknown"


def test_forwarded_for_is_read_from_the_right() -> None:
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    # The client claims 6.6.6.6; the outer proxy appended the real 203.0.113.7.
    assert _client(proxies, "127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.1.1") == "203.0.113.7"
    # Several header lines are one list, in order.
    assert _client(proxies, "127.0.0.1", "6.6.6.6", "203.0.113.7") == "203.0.113.7"
    # A port on an entry, and IPv6 with brackets.
    assert _client(proxies, "127.0.0.1", "203.0.113.7:5000") == "203.0.113.7"
    assert _client(proxies, "127.0.0.1", "[2001:db8::1]:443") == "2001:db8::1"
    # An untrusted peer's header counts for nothing.
    assert _client(proxies, "198.51.100.1", "203.0.113.7") == "198.51.100.1"
    # Garbage stops the walk at the last address a trusted proxy gave.
    assert _client(proxies, "127.0.0.1", "203.0.113.7, junk, 10.2.2.2") == "10.2.2.2"
    # Only proxies: the leftmost is as far as anyone can tell.
    assert _client(proxies, "127.0.0.1", "10.3.3.3, 10.4.4.4") == "10.3.3.3"
    assert _client(proxies, "127.0.0.1") == "127.0.0.1"


@pytest.mark.parametrize("entry", ["*", "localhost", "10.0.0.0/33", "1.2.3"])
def test_a_bad_proxy_entry_names_the_variable(entry: str) -> None:
    with pytest.raises(ConfigurationError, match=r"RAEBURN_TRUSTED_PROXIES: .* is not an IP"):
        Settings.from_env({"RAEBURN_TRUSTED_PROXIES": f"127.0.0.1, {entry}"})


def test_the_setting_from_the_environment_and_by_hand() -> None:
    from_env = Settings.from_env({"RAEBURN_TRUSTED_PROXIES": " 10.0.0.5 ,10.1.0.0/16,, ::1 "})
    assert from_env.trusted_proxies == ("10.0.0.5", "10.1.0.0/16", "::1")
    assert Settings(trusted_proxies="10.0.0.5, ::1").trusted_proxies == ("10.0.0.5", "::1")  # type: ignore[arg-type]
    assert Settings.from_env({}).trusted_proxies == ()


class _Transport:
    def __init__(self, peer: Any) -> None:
        self.peer = peer

    def get_extra_info(self, name: str) -> Any:
        return self.peer if name == "peername" else None


class _Cycle:
    """Stands for uvicorn's per-request object: ``receive`` is its method."""

    def __init__(self, peer: Any) -> None:
        self.transport = _Transport(peer)

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request"}


def test_the_peer_comes_from_the_transport_not_the_scope() -> None:
    proxies = TrustedProxies()
    scope = {"type": "http", "client": ("6.6.6.6", 0), "headers": []}  # rewritten by uvicorn
    assert socket_peer(_Cycle(("127.0.0.1", 5555)).receive) == "127.0.0.1"
    assert proxies.client_of(scope, _Cycle(("127.0.0.1", 5555)).receive) == "127.0.0.1"
    # A Unix socket has no IP peer; other servers have no transport: the scope is all there is.
    assert socket_peer(_Cycle("/run/api.sock").receive) is None

    # Wrapped, as uvicorn's trace logger wraps it, the transport is still found.
    receive = _Cycle(("::1", 5555)).receive

    async def logged() -> dict[str, Any]:
        return await receive()

    assert socket_peer(logged) == "::1"
    assert proxies.client_of(scope, _Cycle("").receive) == "6.6.6.6"


def test_create_app_applies_the_setting(settings: Settings, tmp_path: Path) -> None:
    fields = {**settings.__dict__, "rate_limit": 1, "trusted_proxies": ("10.0.0.7",)}
    app = create_app(Settings(**fields))
    behind = {"X-Forwarded-For": "203.0.113.1"}
    with TestClient(app, client=("10.0.0.7", 4000), raise_server_exceptions=False) as proxy:
        assert proxy.get("/memory/sessions", headers=behind).status_code == 200
        assert proxy.get("/memory/sessions", headers=behind).status_code == 429
        other = {"X-Forwarded-For": "203.0.113.2"}
        assert proxy.get("/memory/sessions", headers=other).status_code == 200
    with TestClient(app, client=("198.51.100.4", 4000), raise_server_exceptions=False) as direct:
        assert direct.get("/memory/sessions", headers=behind).status_code == 200
        spoofed = {"X-Forwarded-For": "203.0.113.9"}
        refused = direct.get("/memory/sessions", headers=spoofed)
        assert refused.status_code == 429
        assert "198.51.100.4" in refused.json()["error"]["message"]
