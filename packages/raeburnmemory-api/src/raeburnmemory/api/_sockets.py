"""Turns Nagle's algorithm off on the TCP sockets the process serves on.

With ``--workers N`` uvicorn binds the listening socket itself and hands it to the workers
without its protocol number, so asyncio does not set ``TCP_NODELAY`` on the connections it
accepts (uvicorn issue 3149). A response's headers and body then leave in two small writes
and the body waits for the client's delayed ACK: about 40 ms added to every request on a
kept-alive connection. Linux copies ``TCP_NODELAY`` from a listening socket to the sockets it
accepts, so setting it on the listener at start-up fixes every later connection.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat

__all__ = ["enable_nodelay_on_listeners"]

_FD_DIR = "/proc/self/fd"


def _is_server_tcp(sock: socket.socket) -> bool:
    """A TCP socket that listens, or is bound and waits to (uvicorn's workers call ``listen``
    only after the application has started)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return False
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        return True
    if sock.getsockname()[1] == 0:
        return False  # not bound
    try:
        sock.getpeername()
    except OSError:
        return True  # bound, not connected
    return False


def enable_nodelay_on_listeners() -> int:
    """Set ``TCP_NODELAY`` on the TCP sockets this process serves on; how many changed."""
    if not os.path.isdir(_FD_DIR):
        return 0  # not Linux: nothing to look through, and nothing inherits the option there
    changed = 0
    for name in os.listdir(_FD_DIR):
        fd = int(name)
        with contextlib.suppress(OSError):
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            sock = socket.socket(fileno=fd)
            try:
                if _is_server_tcp(sock) and not sock.getsockopt(
                    socket.IPPROTO_TCP, socket.TCP_NODELAY
                ):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    changed += 1
            finally:
                sock.detach()  # the descriptor stays open: it belongs to the server
    return changed
