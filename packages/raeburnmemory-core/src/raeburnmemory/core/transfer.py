"""Copies a whole memory from one store to another, vectors included, without re-encoding."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from raeburnmemory.core.checks import require_same_encoder
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Store

__all__ = ["copy_store"]


def copy_store(
    source: Store,
    target: Store,
    *,
    batch_size: int = 2048,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Copy every interaction, vector, link and the encoder record of ``source`` into ``target``.

    Interactions the target holds already with the same content are skipped. Returns how many
    interactions were added. A target whose vectors were made by another encoder raises
    ``EmbeddingMismatchError`` before anything is copied. ``progress(done, total)`` is called
    after each batch.
    """
    info = source.encoder_info()
    target_info = target.encoder_info()
    if info is not None:
        if target_info is None:
            target.set_encoder_info(info)
        else:
            require_same_encoder(target_info, info)
    stored = source.load_vectors()
    rows = {pid: row for row, pid in enumerate(stored.ids)}
    total = source.count()
    added = done = 0
    batch: list[Interaction] = []

    def flush() -> None:
        nonlocal added, done
        with_vectors = [item for item in batch if item.prompt_id in rows]
        without = [item for item in batch if item.prompt_id not in rows]
        if with_vectors:
            picked = [rows[item.prompt_id] for item in with_vectors]
            added += len(target.add(with_vectors, stored.vectors[picked].astype(np.float32)))
        if without:
            added += len(target.add(without, None))
        done += len(batch)
        batch.clear()
        if progress is not None:
            progress(done, total)

    for item in source.iter_interactions():
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    for link in source.links():
        target.link(link)
    return added
