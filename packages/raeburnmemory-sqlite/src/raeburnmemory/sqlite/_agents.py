"""The agents of a SQLite store, each with its latest known name and attributes."""

from __future__ import annotations

from typing import Any

from raeburnmemory.core.model import Agent
from raeburnmemory.sqlite._rows import load_dict

__all__ = ["read_agents"]

# The latest name and the latest attributes given, each found through interactions_agent.
_AGENTS = (
    "SELECT g.agent_id, (SELECT agent_name FROM interactions i "
    "WHERE i.agent_id = g.agent_id AND agent_name IS NOT NULL ORDER BY seq DESC LIMIT 1), "
    "COALESCE((SELECT agent_attrs FROM interactions i "
    "WHERE i.agent_id = g.agent_id AND agent_attrs != '{}' ORDER BY seq DESC LIMIT 1), '{}') "
    "FROM (SELECT agent_id, MIN(seq) AS first FROM interactions GROUP BY agent_id) g "
    "ORDER BY g.first"
)


def read_agents(conn: Any) -> list[Agent]:
    """Every agent in order of first appearance; a record that gives no name (or no
    attributes) leaves the earlier ones known."""
    rows = conn.execute(_AGENTS).fetchall()
    return [Agent(agent_id, name, load_dict(attrs)) for agent_id, name, attrs in rows]
