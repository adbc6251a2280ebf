"""SQL conditions for a :class:`~raeburnmemory.core.model.SearchFilter`, its metadata filter
(``where``) included, over the ``interactions`` table."""

from __future__ import annotations

from typing import Any

from raeburnmemory.core.model import SearchFilter
from raeburnmemory.sqlite._where import where_sql

__all__ = ["filter_sql"]


def filter_sql(flt: SearchFilter, table: str = "") -> tuple[str, list[Any]]:
    """``" AND ..."`` conditions on ``session_id``, ``agent_id``, ``ts`` and ``metadata``, with
    their values.

    ``table`` prefixes the column names (``"i"`` gives ``i.session_id``). The text is empty when
    the filter lets everything through. A metadata filter calls the function
    :func:`~raeburnmemory.sqlite._where.register` adds to the connection.
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
    if flt.where is not None:
        text, more = where_sql(flt.where, f"{prefix}metadata")
        parts.append(text)
        values.extend(more)
    return "".join(f" AND {part}" for part in parts), values
