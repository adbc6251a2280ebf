"""The check a write request passes against what is stored before anything is appended."""

from __future__ import annotations

from collections.abc import Sequence

from raeburnmemory.core import checks
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.model import ContentKey, Interaction

__all__ = ["new_items"]


def new_items(
    state: GraphState, items: Sequence[Interaction], skip_conflicts: bool = False
) -> list[int]:
    """Positions of the interactions not stored yet; ``ConflictError`` on a clash (unless
    ``skip_conflicts``, which leaves the clashing ones out)."""
    records = state.records

    def stored_key(prompt_id: str) -> ContentKey | None:
        record = records.get(prompt_id)
        return None if record is None else record.interaction().content_key()

    new = checks.classify_new(items, stored_key, state.responses.get)
    return checks.positions_to_write(new, skip_conflicts)
