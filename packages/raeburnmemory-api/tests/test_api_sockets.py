"""Nagle's algorithm is turned off on listening sockets bound the way uvicorn's workers get them."""

from __future__ import annotations

import socket
import sys

import pytest

from raeburnmemory.api._sockets import enable_nodelay_on_listeners

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux behaviour")


def test_listener_gets_nodelay_and_passes_it_on() -> None:
    with socket.socket(socket.AF_INET) as listener, socket.socket(socket.AF_INET) as idle:
        listener.bind(("127.0.0.1", 0))  # proto left at 0, as uvicorn's bind_socket does
        listener.listen()
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert enable_nodelay_on_listeners() >= 1
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert idle.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # not listening
        with socket.create_connection(listener.getsockname()) as _:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert enable_nodelay_on_listeners() == 0  # already set; the descriptors stay open
        assert listener.fileno() >= 0


def test_bound_socket_that_will_listen_gets_nodelay() -> None:
    # uvicorn's workers run the application's start-up before they call listen().
    with socket.socket(socket.AF_INET) as bound:
        bound.bind(("127.0.0.1", 0))
        enable_nodelay_on_listeners()
        assert bound.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        bound.listen()
        with socket.create_connection(bound.getsockname()):
            accepted, _ = bound.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
