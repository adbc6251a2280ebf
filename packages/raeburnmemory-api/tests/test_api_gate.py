"""The gate of /memory on a real server: who the client is, and what is checked before the body.

Every server here runs on 127.0.0.1, the address uvicorn trusts with ``X-Forwarded-For`` by
default, and every request says it comes from somewhere else.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

KEY = "gate-key"
LAUNCHES = ["uvicorn", "uvicorn-trace"]
if importlib.util.find_spec("raeburnmemory.cli") is not None:
    LAUNCHES.append("serve")


def _random_ip(rng: random.Random) -> str:
    return ".".join(str(rng.randrange(1, 255)) for _ in range(4))


def _spoofing(rng: random.Random, **headers: str) -> dict[str, str]:
    """Headers that claim the request comes from a new random address each time."""
    return {
        "X-Forwarded-For": f"{_random_ip(rng)}, {_random_ip(rng)}",
        "Forwarded": f"for={_random_ip(rng)}",
        "X-Real-IP": _random_ip(rng),
        **headers,
    }


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.mark.parametrize("launch", LAUNCHES)
def test_forwarded_headers_do_not_reset_the_limit(
    start_server: Callable[..., Any], http: httpx.Client, launch: str
) -> None:
    env = {"RAEBURN_RATE_LIMIT": "5", "RAEBURN_API_KEY": KEY}
    server = start_server(env, workers=2, launch=launch)
    rng = random.Random(14)
    url = f"{server.url}/memory/sessions"
    # Guessing keys: no key, then wrong keys, each from a "new" address.
    guesses = [
        http.get(url, headers=_spoofing(rng, Authorization=f"Bearer guess-{n}")).status_code
        for n in range(4)
    ]
    guesses.append(http.get(url, headers=_spoofing(rng)).status_code)
    assert guesses == [401] * 5
    # The wrong keys counted: the sixth request is refused even with the right key.
    refused = http.get(url, headers=_spoofing(rng, Authorization=f"Bearer {KEY}"))
    assert refused.status_code == 429, refused.text
    assert "127.0.0.1" in refused.json()["error"]["message"]  # counted by its TCP peer
    assert http.get(url, headers=_spoofing(rng)).status_code == 429


def test_trusted_proxy_forwards_the_client(
    start_server: Callable[..., Any], http: httpx.Client
) -> None:
    env = {"RAEBURN_RATE_LIMIT": "2", "RAEBURN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}
    server = start_server(env, workers=1)
    url = f"{server.url}/memory/sessions"
    rng = random.Random(17)

    def through_proxies(claimed: str) -> int:
        # The client wrote the first entry; the proxies appended the client and themselves.
        chain = f"{claimed}, 203.0.113.7, 10.1.2.3"
        return http.get(url, headers={"X-Forwarded-For": chain}).status_code

    # One client behind the proxies: its own claims on the left change nothing.
    assert [through_proxies(_random_ip(rng)) for _ in range(3)] == [200, 200, 429]
    # Other clients behind the same proxies have budgets of their own.
    other = http.get(url, headers={"X-Forwarded-For": "198.51.100.9, 10.1.2.3"})
    assert other.status_code == 200
    # Forwarded is never read; without X-Forwarded-For the client is the proxy itself.
    assert http.get(url, headers={"Forwarded": "for=198.51.100.10"}).status_code == 200
    assert http.get(url, headers={"Forwarded": "for=198.51.100.11"}).status_code == 200
    assert http.get(url).status_code == 429


#: Bodies the server must not read before the limit and the key said yes.
UNREAD_BODIES = [
    ({"Content-Type": "application/json"}, b"{not json"),
    ({"Content-Type": "text/plain"}, b"hello"),
    ({}, b'{"text": "x"}'),
    ({"Content-Type": "application/json"}, b"x" * 70_000),
]


def test_limit_and_key_come_before_the_body(
    start_server: Callable[..., Any], http: httpx.Client
) -> None:
    limit = len(UNREAD_BODIES)
    env = {
        "RAEBURN_RATE_LIMIT": str(limit),
        "RAEBURN_API_KEY": KEY,
        "RAEBURN_MAX_BODY_BYTES": "65536",
    }
    server = start_server(env, workers=1)
    url = f"{server.url}/memory/similar"
    for expected in (401, 429):
        for headers, body in UNREAD_BODIES:
            response = http.post(url, content=body, headers=headers)
            assert response.status_code == expected, (body[:20], response.text)


def test_a_body_that_is_not_json_is_explained(
    start_server: Callable[..., Any], http: httpx.Client
) -> None:
    server = start_server({"RAEBURN_API_KEY": KEY}, workers=1)
    url = f"{server.url}/memory/interactions"
    auth = {"Authorization": f"Bearer {KEY}"}
    cases = [
        ({}, b'{"prompt": {}}', 415, "has none"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=1", 415, "says"),
        ({"Content-Type": "application/json"}, b'{"prompt": ', 422, "at character"),
        ({"Content-Type": "application/json"}, b"\xff\xfe{", 422, "UTF-8"),
        ({"Content-Type": "application/json"}, b"", 422, "no body"),
    ]
    for headers, body, status, detail in cases:
        response = http.post(url, content=body, headers={**auth, **headers})
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["type"] == "InvalidRequestError"
        assert error["message"].startswith("the body must be JSON: "), error["message"]
        assert detail in error["message"]
