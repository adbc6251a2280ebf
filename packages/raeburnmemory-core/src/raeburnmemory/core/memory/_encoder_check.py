"""Whether the encoder in use made the vectors a store holds: the graph's one encoder rule."""

from __future__ import annotations

from raeburnmemory.core.encoders import (
    Encoder,
    SentenceTransformerEncoder,
    canonical_model_name,
    same_encoder,
)
from raeburnmemory.core.errors import EmbeddingMismatchError
from raeburnmemory.core.model import EncoderInfo

__all__ = ["encoder_mismatch"]


def encoder_mismatch(
    stored: EncoderInfo, encoder: Encoder, dim: int | None = None, *, trust_lazy: bool = False
) -> EmbeddingMismatchError | None:
    """The error that says ``encoder`` did not make the ``stored`` vectors (``None``: it did).

    ``dim`` is the width of vectors the encoder already returned (``None``: ask the encoder).
    With ``trust_lazy``, a sentence-transformers model that is not loaded yet is not loaded
    when the store was made by that model, or by the offline encoder the default model falls
    back to (the model may still fail to load: that is decided at first use).
    """
    if trust_lazy and isinstance(encoder, SentenceTransformerEncoder):
        if canonical_model_name(stored.name) == encoder.requested:
            return None
        if not encoder.named and stored.name == encoder.fallback_name:
            return None
    active = EncoderInfo(encoder.name, encoder.dim if dim is None else dim)  # loads a lazy model
    if same_encoder(stored, active):
        return None
    return EmbeddingMismatchError(stored.name, stored.dim, active.name, active.dim)
