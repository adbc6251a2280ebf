"""The marker raeburnmemory leaves on the collections and shards it makes, and what it decides.

A collection (on a server) or shard (embedded) made by raeburnmemory records the encoder of its
vectors. It is derived data: when it disagrees with the store (another dimension, another
encoder, because the store was reindexed while it was out of reach) it is dropped and rebuilt
from the store. One raeburnmemory did not make is never dropped: when it does not fit, opening
fails with a message naming both sides. Both engines describe what they found the same way and
take the same decision here. One whose marker records a newer :data:`FORMAT` than this version
knows was made by a newer raeburnmemory: it is refused and left as it is, since rebuilding it
could destroy what that version needs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from raeburnmemory.core.errors import ConfigurationError, EmbeddingMismatchError, StoreError
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.qdrant.settings import QdrantSettings

_log = logging.getLogger("raeburnmemory.qdrant")

#: Metadata key marking collections and shards made by raeburnmemory.
MARKER = "raeburnmemory"
#: The marker format this version writes and reads; a marker without one is format 1.
FORMAT = 1


def marker(dim: int, encoder: EncoderInfo | None) -> dict[str, Any]:
    """The metadata recording who made a collection and with which encoder."""
    return {MARKER: {"format": FORMAT, "dim": dim, "encoder": encoder.name if encoder else None}}


def recorded_encoder(metadata: dict[str, Any] | None) -> str | None:
    """The encoder name a marker records (``None``: not recorded, or no marker)."""
    entry = (metadata or {}).get(MARKER)
    return entry.get("encoder") if isinstance(entry, dict) else None


def recorded_format(metadata: dict[str, Any] | None) -> object:
    """The format a marker records (1 for a marker without one, ``None`` without a marker)."""
    entry = (metadata or {}).get(MARKER)
    return entry.get("format", 1) if isinstance(entry, dict) else None


@dataclass(frozen=True)
class Found:
    """What an existing collection or shard looks like."""

    #: Its vector size, or ``None`` for a layout raeburnmemory does not make (named vectors).
    size: int | None
    #: Its distance, as the engine names it (for messages).
    distance: str | None
    #: Whether the distance is cosine.
    cosine: bool
    #: Whether raeburnmemory made it.
    ours: bool
    #: How many points it holds.
    points: int
    #: The encoder its marker records.
    encoder: str | None
    #: The format its marker records (``None``: no marker).
    format: object = None


def check_request(dim: int, encoder: EncoderInfo | None) -> None:
    """Refuse an index whose dimension disagrees with the store's encoder."""
    if encoder is not None and encoder.dim != dim:
        raise EmbeddingMismatchError(encoder.name, encoder.dim, "the requested index", dim)


def decide(
    settings: QdrantSettings, kind: str, found: Found, dim: int, encoder: EncoderInfo | None
) -> Literal["keep", "record", "rebuild"]:
    """Whether to use an existing collection as it is, record the encoder on it, or rebuild it.

    Raises ``ConfigurationError`` for one raeburnmemory did not make that does not fit, and
    ``StoreError`` for one a newer raeburnmemory made. ``kind`` names it in messages
    ("collection", "shard").
    """
    fits = found.size == dim and found.cosine
    name = f"Qdrant {kind} {settings.collection!r} at {settings.where}"
    if found.ours:
        _refuse_newer(name, kind, found.format, settings)
    if not found.ours:
        if not fits:
            raise ConfigurationError(
                f"{name} holds {found.size or 'named'}-dimensional vectors by "
                f"{found.distance or 'several'} distance, but this store needs {dim} dimensions "
                f"by cosine; it was not made by raeburnmemory, so it is left alone: choose "
                "another `collection`"
            )
        if found.points:
            raise ConfigurationError(
                f"{name} holds {found.points} points not made by raeburnmemory; choose another "
                "`collection`"
            )
        return "record"
    stale_encoder = encoder is not None and found.encoder is not None
    stale_encoder = stale_encoder and found.encoder != (encoder.name if encoder else None)
    if fits and not stale_encoder:
        return "keep"
    _log.warning(
        "%s holds vectors of %s (%s dimensions) but the store's are from %s (%d dimensions): "
        "rebuilding it from the store",
        name,
        found.encoder or "another encoder",
        found.size,
        encoder.name if encoder else "no encoder yet",
        dim,
    )
    return "rebuild"


def _refuse_newer(name: str, kind: str, found: object, settings: QdrantSettings) -> None:
    """Raise ``StoreError`` when the marker records a format this version does not know."""
    known = isinstance(found, int) and not isinstance(found, bool) and found <= FORMAT
    if found is None or known:
        return
    remedy = (
        f"delete the folder {settings.where} to rebuild the {kind} from the store"
        if settings.local
        else f"delete the collection {settings.collection!r} to rebuild it from the store"
    )
    raise StoreError(
        f"{name} was made by a newer raeburnmemory (marker format {found}; this version reads "
        f"format {FORMAT}), so it was left as it is: upgrade raeburnmemory-qdrant, or {remedy}"
    )
