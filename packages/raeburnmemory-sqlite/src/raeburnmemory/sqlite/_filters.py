"""SQL conditions for a :class:`~raeburnmemory.core.model.SearchFilter`."""

from __future__ import annotations

from typing import Any

from raeburnmemory.core.model import SearchFilter

__all__ = ["filter_sql"]


def filter_sql(flt: SearchFilter, table: str = "") -> tuple[str, list[Any]]:
    """``" AND ..."`` conditions on ``session_id``, ``agent_id`` and ``ts``, with their values.

    ``table`` prefixes the column names (``"i"`` gives ``i.session_id``). The text is empty when
    the filter lets everything through.
    """
    prefix = f"{table}." if table else ""
    parts: list[str] = []
    values: list[Any] = []
    if flt.session_id is not None:
        parts.append(f"{prefix}session_id = ?")
        values.append(flt.session_id)
    if flt.agent_id is not None:
        parts.append(f"{prefix}agent_id = ?")
        values.append(flt.agent_id)
    if flt.since is not None:
        parts.append(f"{prefix}ts >= ?")
        values.append(float(flt.since))
    if flt.until is not None:
        parts.append(f"{prefix}ts <= ?")
        values.append(float(flt.until))
    return "".join(f" AND {part}" for part in parts), values
