"""Who sent a request: the TCP peer, or the address a trusted proxy forwarded.

By default the client is the other end of the TCP connection, whatever ``X-Forwarded-For`` or
``Forwarded`` say. Only when that peer is one of the proxies the operator named
(``RAEBURN_TRUSTED_PROXIES``) does ``X-Forwarded-For`` count, read from the right: each trusted
proxy appended the address it saw, and the first address that is not a trusted proxy is the
client. Everything to its left was written by the client itself.

uvicorn rewrites the ASGI scope's ``client`` from ``X-Forwarded-For`` on its own when the peer is
in its ``--forwarded-allow-ips`` (127.0.0.1 and ::1 unless told otherwise), so the peer is read
from the connection's transport when the server is uvicorn, not from the scope.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from starlette.types import Receive, Scope

from raeburnmemory.core.errors import ConfigurationError

__all__ = ["TrustedProxies", "socket_peer"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# A client's address as the rate limit counts it when nothing better is known.
UNKNOWN = "unknown"


# How many wrappers of ``receive`` (uvicorn's trace logger is one) are looked through.
_WRAPPERS = 3


def _transport(receive: Any) -> Any:
    """The transport of the object whose method ``receive`` is, looking through wrappers.

    A wrapper is a closure over a variable named ``receive``, as uvicorn's message logger
    (``--log-level trace``) makes.
    """
    for _ in range(_WRAPPERS + 1):
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if transport is not None:
            return transport
        code = getattr(receive, "__code__", None)
        cells = getattr(receive, "__closure__", None) or ()
        names = code.co_freevars if code is not None else ()
        wrapped = dict(zip(names, cells, strict=False)).get("receive")
        if wrapped is None:
            return None
        receive = wrapped.cell_contents
    return None


def socket_peer(receive: Receive) -> str | None:
    """The IP address at the other end of the connection, read from uvicorn's transport.

    uvicorn hands an application the ``receive`` method of the object that serves one request,
    and that object holds the connection's asyncio transport. ``None`` for other servers and
    for connections without an IP peer (a Unix socket).
    """
    get_extra_info = getattr(_transport(receive), "get_extra_info", None)
    if get_extra_info is None:
        return None
    try:
        peer = get_extra_info("peername")
    except Exception:  # a transport that is closing may answer with anything
        return None
    if isinstance(peer, (tuple, list)) and len(peer) >= 2 and isinstance(peer[0], str):
        return peer[0]
    return None


def _address(text: str) -> Address | None:
    """``text`` as an IP address (``[v6]:port`` and ``v4:port`` too), or ``None``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # an IPv4 address with a port
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket reports IPv4 peers this way
    return address


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed: IP addresses and networks."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        networks: list[Network] = []
        for entry in entries:
            text = entry.strip()
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"RAEBURN_TRUSTED_PROXIES: {text!r} is not an IP address or network "
                    "(write addresses like 10.0.0.5 or networks like 10.0.0.0/24, "
                    "separated by commas)"
                ) from None
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: Address) -> bool:
        """Whether ``address`` is one of the named proxies."""
        return any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Iterable[bytes]) -> str:
        """The client's address, from the TCP ``peer`` and the ``X-Forwarded-For`` values."""
        if peer is None:
            return UNKNOWN
        nearest = _address(peer)
        if nearest is None or not self.networks or not self.trusts(nearest):
            return str(nearest) if nearest is not None else peer
        hops = [hop for value in forwarded_for for hop in value.decode("latin-1").split(",")]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break  # garbage: the last address a trusted party gave is as far as it goes
            nearest = address
            if not self.trusts(address):
                break
        return str(nearest)

    def client_of(self, scope: Scope, receive: Receive) -> str:
        """The client of the request in ``scope``, its TCP peer read as :func:`socket_peer` says."""
        peer = socket_peer(receive)
        if peer is None:
            client = scope.get("client")
            peer = str(client[0]) if client else None
        if not self.networks:
            return self.client(peer, ())
        forwarded = [
            value for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"
        ]
        return self.client(peer, forwarded)
