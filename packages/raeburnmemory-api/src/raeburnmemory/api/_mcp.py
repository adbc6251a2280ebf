"""The MCP endpoint ``/mcp`` of the API, when ``raeburnmemory-mcp`` is installed.

Each request has passed the gate (rate limits, key) before it gets here, and is served by the
MCP server of its key's namespace with only the tools its scopes allow: ``read`` the tools that
look, ``write`` ``record_memory``, ``admin`` ``forget_memory``. The servers are stateless (each
request stands alone, JSON answers), so any worker of the API can serve any request.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

from raeburnmemory.api._responses import error_response
from raeburnmemory.api.errors import ApiError
from raeburnmemory.api.keys import OPEN_GRANT, KeyGrant
from raeburnmemory.api.runtime import GRANT_STATE, Runtime

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["MCP_PATH", "McpEndpoint", "mcp_endpoint"]

#: Where the API serves MCP over streamable HTTP.
MCP_PATH = "/mcp"


def mcp_endpoint(runtime: Runtime) -> McpEndpoint | None:
    """The endpoint, or ``None`` when ``raeburnmemory-mcp`` (or the ``mcp`` SDK) is missing."""
    try:
        import raeburnmemory.mcp.server  # noqa: F401
    except ImportError:
        return None
    return McpEndpoint(runtime)


class McpEndpoint:
    """An ASGI app that hands each request to the MCP server of its key's grant."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._apps: dict[tuple[str, frozenset[str]], ASGIApp] = {}

    async def start(self, stack: AsyncExitStack) -> None:
        """Build one server per grant and run its session manager until ``stack`` closes."""
        from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
        from mcp.server.transport_security import TransportSecuritySettings

        from raeburnmemory.mcp.server import create_server

        runtime = self.runtime
        grants = list(runtime.keys.grants()) if not runtime.keys.empty else [OPEN_GRANT]
        # The API's key check stands where the SDK's Host and Origin checks would: the API
        # may be reached under any name its deployment gives it.
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        for grant in grants:
            server = create_server(runtime.memory_for(grant), scopes=grant.scopes)
            server.streamable_http_app(
                stateless_http=True, json_response=True, transport_security=security
            )
            await stack.enter_async_context(server.session_manager.run())
            self._apps[(grant.namespace, grant.scopes)] = StreamableHTTPASGIApp(
                server.session_manager
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant: Any = scope.get("state", {}).get(GRANT_STATE, OPEN_GRANT)
        app = (
            self._apps.get((grant.namespace, grant.scopes)) if isinstance(grant, KeyGrant) else None
        )
        if app is None:
            await error_response(ApiError("the server has not finished starting", status=503))(
                scope, receive, send
            )
            return
        await app(scope, receive, send)
