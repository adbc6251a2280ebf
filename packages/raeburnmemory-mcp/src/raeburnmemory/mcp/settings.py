"""The MCP server's configuration, read from the same ``RAEBURN_*`` variables as the HTTP API.

The store, backends, encoder and store options use the HTTP API's variable names, so one
environment configures both servers; ``RAEBURN_MCP_*`` variables add what only the MCP server
has. A value that cannot be used raises :class:`~raeburnmemory.core.errors.ConfigurationError`
whose message starts with the variable's name, and the server does not start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from raeburnmemory.core.environment import STORE_ENVIRONMENT, StoreSettings, env_text
from raeburnmemory.core.errors import ConfigurationError

__all__ = ["ENVIRONMENT", "McpSettings"]

#: Each environment variable the MCP server reads, with what it sets.
ENVIRONMENT: dict[str, str] = {
    **STORE_ENVIRONMENT,
    "RAEBURN_MCP_READ_ONLY": "1 (or true, yes, on) offers only the tools that read",
    "RAEBURN_MCP_TOOL_DESCRIPTIONS": "JSON or TOML file of tool descriptions to use instead",
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name}={env[name]!r} must be 1 or 0 (true/false, yes/no, on/off)")


@dataclass(frozen=True)
class McpSettings(StoreSettings):
    """Everything the MCP server needs to know; build it with :meth:`from_env` or by hand."""

    #: Offer only the tools that read; the store is opened only if it exists.
    read_only: bool = False
    #: A JSON or TOML file of tool descriptions that replace the built-in ones.
    tool_descriptions: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> McpSettings:
        """Read the settings from ``env`` (default ``os.environ``) and check them."""
        env = os.environ if env is None else env
        descriptions = env_text(env, "RAEBURN_MCP_TOOL_DESCRIPTIONS")
        settings = cls(
            **cls.fields_from_env(env),
            read_only=_flag(env, "RAEBURN_MCP_READ_ONLY"),
            tool_descriptions=Path(descriptions).expanduser() if descriptions else None,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ``ConfigurationError`` naming the variable of the first unusable value."""
        self.check_store()
