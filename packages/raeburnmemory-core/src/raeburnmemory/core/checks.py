"""The rules every store applies the same way, for the authors of storage backends.

A backend reads what its engine holds and hands it to these functions, which decide:

* **conflicts**: :func:`classify_new` sorts a batch of interactions into the new ones, the ones
  stored already with the same content (:meth:`Interaction.content_key`), and the ones that
  clash with what is stored or with an earlier item of the batch; :func:`refuse_conflicts`
  raises :class:`~raeburnmemory.core.errors.ConflictError` for the first clash.
* **vectors**: :func:`vector_matrix`, :func:`check_fits_encoder` and
  :func:`vectors_for_ids` refuse vectors that do not fit, always with
  :class:`~raeburnmemory.core.errors.InvalidInteractionError`.
* **encoders**: :func:`check_encoder_change` (a store's ``set_encoder_info``),
  :func:`require_same_encoder` (vectors made by one encoder meeting a store of another) and
  :func:`check_encoder_at_open`, all with
  :class:`~raeburnmemory.core.errors.EmbeddingMismatchError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from raeburnmemory.core.encoders import (
    Encoder,
    SentenceTransformerEncoder,
    canonical_model_name,
    same_encoder,
)
from raeburnmemory.core.errors import (
    ConflictError,
    EmbeddingMismatchError,
    InvalidInteractionError,
)
from raeburnmemory.core.model import ContentKey, EncoderInfo, Interaction
from raeburnmemory.core.store import Matrix

__all__ = [
    "Conflict",
    "NewItems",
    "check_encoder_at_open",
    "check_encoder_change",
    "check_fits_encoder",
    "classify_new",
    "positions_to_replace",
    "positions_to_write",
    "refuse_conflicts",
    "require_same_encoder",
    "vector_matrix",
    "vectors_for_ids",
]

# -- conflicts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """An item of a batch that cannot be stored as it is."""

    position: int
    """Its position in the batch."""
    kind: Literal["prompt", "response"]
    """``"prompt"``: its prompt id is stored (or earlier in the batch) with other content;
    ``"response"``: its response id belongs to another prompt."""
    prompt_id: str
    """The item's prompt id."""
    response_id: str | None
    """The item's response id (``None`` for a prompt without a response)."""
    owner: str | None = None
    """For ``"response"``: the prompt the response belongs to."""

    def message(self) -> str:
        """What :class:`ConflictError` says about it."""
        if self.kind == "prompt":
            return (
                f"prompt {self.prompt_id!r} is stored already with different content; "
                "nothing was written"
            )
        return (
            f"response {self.response_id!r} belongs to prompt {self.owner!r}, not to "
            f"{self.prompt_id!r}; nothing was written"
        )


@dataclass(frozen=True)
class NewItems:
    """A batch sorted by :func:`classify_new`, each group as positions in the batch, in order."""

    fresh: list[int] = field(default_factory=list)
    """Items to store: their prompt is neither stored nor earlier in the batch."""
    unchanged: list[int] = field(default_factory=list)
    """Items stored already (or earlier in the batch) with the same content."""
    conflicting: list[Conflict] = field(default_factory=list)
    """Items that clash with what is stored or with an earlier item of the batch."""


def classify_new(
    items: Sequence[Interaction],
    stored_key: Callable[[str], ContentKey | None],
    owner_of: Callable[[str], str | None],
) -> NewItems:
    """Sort ``items`` into fresh, unchanged and conflicting ones.

    ``stored_key(prompt_id)`` is the :meth:`~Interaction.content_key` of the stored prompt, or
    ``None``; ``owner_of(response_id)`` is the stored prompt that owns a response, or ``None``.
    A backend reads both for the whole batch at once (``dict.get`` of what it read will do).
    The batch's own fresh items count as stored for its later ones.
    """
    new = NewItems()
    batch: dict[str, ContentKey] = {}
    owners: dict[str, str] = {}
    for position, item in enumerate(items):
        pid = item.prompt_id
        key = item.content_key()
        known = batch.get(pid)
        if known is None:
            known = stored_key(pid)
        if known is not None:
            if known == key:
                new.unchanged.append(position)
            else:
                new.conflicting.append(Conflict(position, "prompt", pid, item.response_id))
            continue
        rid = item.response_id
        owner = None if rid is None else owners.get(rid) or owner_of(rid)
        if owner is not None and owner != pid:
            new.conflicting.append(Conflict(position, "response", pid, rid, owner))
            continue
        batch[pid] = key
        if rid is not None:
            owners[rid] = pid
        new.fresh.append(position)
    return new


def refuse_conflicts(new: NewItems) -> list[int]:
    """The positions to store, or :class:`ConflictError` naming the batch's first clash."""
    if new.conflicting:
        raise ConflictError(new.conflicting[0].message())
    return new.fresh


def positions_to_write(new: NewItems, skip_conflicts: bool) -> list[int]:
    """The positions a store's ``add`` writes: :func:`refuse_conflicts`, or with
    ``skip_conflicts`` the fresh items, the conflicting ones left out."""
    return new.fresh if skip_conflicts else refuse_conflicts(new)


def positions_to_replace(
    items: Sequence[Interaction],
    new: NewItems,
    owner_of: Callable[[str], str | None],
    *,
    rewrite: bool = False,
) -> tuple[list[int], list[str]]:
    """What a store's ``replace`` writes: the positions, in order, and the stored prompt ids
    whose content they replace.

    With ``rewrite`` an item stored with the same content is written again too (its metadata,
    attributes or time may differ): its stored prompt counts as replaced.

    Raises :class:`ConflictError` (nothing is written) for a response id that belongs to
    another prompt, and for a prompt id given twice in the batch with different content.
    """
    first: dict[str, int] = {}
    for position, item in enumerate(items):
        first.setdefault(item.prompt_id, position)
    replaced: list[int] = []
    for conflict in new.conflicting:
        rid = items[conflict.position].response_id
        owner = None if rid is None else owner_of(rid)
        if conflict.kind == "response" or first[conflict.prompt_id] != conflict.position:
            raise ConflictError(conflict.message())
        if owner is not None and owner != conflict.prompt_id:
            raise ConflictError(
                Conflict(
                    conflict.position, "response", conflict.prompt_id, conflict.response_id, owner
                ).message()
            )
        replaced.append(conflict.position)
    if rewrite:
        replaced += [p for p in new.unchanged if first[items[p].prompt_id] == p]
    return sorted(new.fresh + replaced), [items[p].prompt_id for p in replaced]


# -- vectors -----------------------------------------------------------------------------------


def vector_matrix(vectors: Matrix | None, count: int) -> Matrix | None:
    """``vectors`` as a float32 matrix of one row per interaction (``None`` stays ``None``).

    Anything else (a 1-D array, another number of rows) raises ``InvalidInteractionError``.
    """
    if vectors is None:
        return None
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != count:
        raise InvalidInteractionError(
            f"expected one vector per interaction ({count} rows), got an array of shape "
            f"{matrix.shape}; nothing was written"
        )
    return matrix


def check_fits_encoder(matrix: Matrix, encoder: EncoderInfo | None) -> None:
    """Refuse vectors while no encoder is recorded, or of another dimension than its own."""
    if encoder is None:
        raise InvalidInteractionError(
            "record the encoder (set_encoder_info) before adding vectors; nothing was written"
        )
    if matrix.shape[1] != encoder.dim:
        raise InvalidInteractionError(
            f"the vectors have {matrix.shape[1]} dimensions but the store's encoder "
            f"{encoder.name!r} makes {encoder.dim}; nothing was written"
        )


def vectors_for_ids(ids: Sequence[str], vectors: Matrix, dim: int) -> Matrix:
    """``vectors`` as a float32 matrix of one row of ``dim`` numbers per id.

    What ``replace_vectors`` checks of each batch, and a vector index of what it is given.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.shape != (len(ids), dim):
        raise InvalidInteractionError(
            f"expected {len(ids)} vectors of {dim} dimensions (one per id), got an array of "
            f"shape {matrix.shape}; nothing was changed"
        )
    return matrix


# -- encoders ----------------------------------------------------------------------------------


def check_encoder_change(
    current: EncoderInfo | None, new: EncoderInfo, has_vectors: Callable[[], bool]
) -> bool:
    """Whether ``set_encoder_info(new)`` must write the record.

    ``False`` when ``new`` is recorded already; ``EmbeddingMismatchError`` when another encoder
    is recorded and vectors exist (``has_vectors()`` is asked only then); else ``True``.
    """
    if current == new:
        return False
    if current is not None and has_vectors():
        raise EmbeddingMismatchError(current.name, current.dim, new.name, new.dim)
    return True


def require_same_encoder(stored: EncoderInfo, active: EncoderInfo) -> None:
    """``EmbeddingMismatchError`` unless both records name one encoder (any spelling)."""
    if not same_encoder(stored, active):
        raise EmbeddingMismatchError(stored.name, stored.dim, active.name, active.dim)


def check_encoder_at_open(
    stored: EncoderInfo | None, encoder: Encoder, *, compare_loaded: bool = False
) -> EmbeddingMismatchError | None:
    """The mismatch between a store's encoder record and ``encoder``, or ``None``.

    A lazy model is not loaded when the store was made by it, or by the offline encoder the
    default model falls back to (it may still fail to load: that is decided at first use);
    otherwise, and always with ``compare_loaded``, the encoder actually in use is compared.
    The caller raises the error, or re-embeds the store.
    """
    if stored is None:
        return None
    if isinstance(encoder, SentenceTransformerEncoder) and not compare_loaded:
        if canonical_model_name(stored.name) == encoder.requested:
            return None
        if not encoder.named and stored.name == encoder.fallback_name:
            return None
    active = EncoderInfo(encoder.name, encoder.dim)  # loads a lazy model
    if same_encoder(stored, active):
        return None
    return EmbeddingMismatchError(stored.name, stored.dim, active.name, active.dim)
