"""The checks a write request passes against what is stored before anything is appended."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raeburnmemory.core.errors import ConflictError, InvalidInteractionError
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.model import EncoderInfo, Interaction
from raeburnmemory.core.store import Matrix

__all__ = ["new_items", "vector_block"]


def new_items(state: GraphState, items: Sequence[Interaction]) -> list[int]:
    """Indexes of the interactions not stored yet; ``ConflictError`` on a clash."""
    fresh: list[int] = []
    batch: dict[str, Interaction] = {}
    owners: dict[str, str] = {}
    records, stored_owners = state.records, state.responses
    for index, item in enumerate(items):
        pid = item.prompt_id
        known = batch.get(pid)
        if known is None and pid in records:
            known = records[pid].interaction()
        if known is not None:
            if not known.same_content(item):
                raise ConflictError(
                    f"prompt {pid!r} is stored with different content; nothing was written"
                )
            continue
        owner = owners.get(item.response_id) or stored_owners.get(item.response_id)
        if owner is not None and owner != pid:
            raise ConflictError(
                f"response {item.response_id!r} belongs to prompt {owner!r}, not {pid!r}; "
                "nothing was written"
            )
        batch[pid] = item
        owners[item.response_id] = pid
        fresh.append(index)
    return fresh


def vector_block(
    vectors: Matrix | None, count: int, encoder: EncoderInfo | None, dim: int | None
) -> Matrix | None:
    """The vectors as a float32 matrix: one row per interaction, in the store's dimension."""
    if vectors is None:
        return None
    block = np.asarray(vectors, dtype=np.float32)
    if block.ndim != 2 or block.shape[0] != count:
        raise InvalidInteractionError(
            f"expected {count} vectors (one per interaction), got an array of shape {block.shape}"
        )
    if encoder is not None:
        dim = encoder.dim
    if dim is not None and block.shape[1] != dim:
        raise InvalidInteractionError(
            f"the vectors have {block.shape[1]} dimensions but the store's have {dim}"
        )
    return block
