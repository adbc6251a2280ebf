"""MemoryWrites: how a MemoryGraph records, replaces and updates interactions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import replace
from datetime import timedelta
from typing import Any

from raeburnmemory.core._collector import collector_paused
from raeburnmemory.core.checks import require_same_encoder
from raeburnmemory.core.encoders import Encoder
from raeburnmemory.core.errors import NotFoundError
from raeburnmemory.core.limits import _checked_records
from raeburnmemory.core.memory._encoding import encode_in_chunks
from raeburnmemory.core.memory._views import MemoryViews
from raeburnmemory.core.model import EncoderInfo, Interaction, utc_now
from raeburnmemory.core.records import (
    UNCHANGED,
    check_on_conflict,
    interaction_from_mapping,
    make_interaction,
    updated_interaction,
)
from raeburnmemory.core.store import Matrix

__all__ = ["MemoryWrites"]


class MemoryWrites(MemoryViews):
    """The recording side of :class:`~raeburnmemory.core.memory.MemoryGraph`, which sets the
    encoder declared here: adding, replacing and updating interactions."""

    _encoder: Encoder
    #: How long an interaction recorded without ``expires_at`` lives (``None``: for ever).
    _ttl: timedelta | None = None

    def _expiring(self, items: list[Interaction]) -> list[Interaction]:
        """``items``, those without ``expires_at`` given the graph's ``ttl`` from now."""
        if self._ttl is None:
            return items
        until = utc_now() + self._ttl
        return [item if item.expires_at else replace(item, expires_at=until) for item in items]

    def _check_encoder(self) -> EncoderInfo:
        """The active encoder's record, checked against the store's (recording it if new)."""
        active = EncoderInfo(self._encoder.name, self._encoder.dim)
        stored = self.store.encoder_info()
        if stored is None:
            self.store.set_encoder_info(active)
        else:
            require_same_encoder(stored, active)
        return active

    def _record(
        self,
        items: Sequence[Interaction],
        on_conflict: str = "error",
        *,
        vectors: Matrix | None = None,
        rewrite: bool = False,
        checked: bool = False,
    ) -> list[str]:
        """Encode (unless ``vectors`` are given), store and index ``items`` with one call of the
        store: all or nothing. ``rewrite`` writes a replaced item even when its content is
        the stored one (:meth:`Store.replace`); ``checked``: these very records were made by
        :func:`make_interaction` or checked by :func:`interaction_from_mapping`, so the store
        need not check them again."""
        check_on_conflict(on_conflict)
        if vectors is None:
            vectors = encode_in_chunks(self._encoder, [item.prompt_text for item in items])
        with self._lock, collector_paused():
            self._catch_up()
            self._check_encoder()
            with _checked_records(items) if checked else nullcontext():
                if on_conflict == "replace":
                    added = self.store.replace(items, vectors, rewrite=rewrite)
                else:
                    added = self.store.add(items, vectors, skip_conflicts=on_conflict == "skip")
            if added:
                self._graph = None
                if not self._keeper.wants_own_vectors():
                    # the index is built from the store, these included: a large batch's
                    # vectors go before it is, not held beside it
                    vectors = None
                self._keeper.add_own(self.store, items, vectors, added)
            return added

    def add_interaction(
        self,
        prompt: str | Mapping[str, Any],
        response: str | Mapping[str, Any] | None = None,
        agent: str | Mapping[str, Any] | None = None,
        session_id: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        timestamp: Any = None,
        expires_at: Any = None,
        on_conflict: str = "error",
    ) -> str:
        """Record one interaction durably and return its prompt id.

        ``prompt`` and ``response`` are their text, or dicts with ``text`` and optionally
        ``id`` (generated, in time order, when missing); without a ``response`` the prompt is
        a memory of its own (a note, a fact, a question not answered yet), to which
        :meth:`update_interaction` can add a response later; ``agent`` is its id or a dict with
        ``id`` and optionally ``name`` (default: the agent ``"default"``); other keys are kept
        as node attributes. ``session_id`` defaults to ``"default"``. ``timestamp`` (datetime,
        ISO string or POSIX seconds) defaults to now. ``expires_at`` (the same shapes) is when
        the interaction stops being returned by any read, and becomes removable by
        :meth:`purge_expired`; without it the graph's ``ttl`` (if any) counts from now.
        Adding a prompt id again with the same content does nothing; with different content it
        raises ``ConflictError``, or with ``on_conflict="skip"`` leaves what is stored as it
        is, or with ``"replace"`` puts the new content (re-embedded) in its place in one
        durable step, keeping its links.
        """
        item = make_interaction(
            prompt,
            response,
            agent,
            session_id,
            metadata=metadata,
            timestamp=timestamp,
            expires_at=expires_at,
        )
        [item] = self._expiring([item])
        self._record([item], on_conflict, checked=True)
        return item.prompt_id

    def batch_add(
        self,
        interactions: Iterable[Mapping[str, Any] | Interaction],
        *,
        on_conflict: str = "error",
    ) -> list[str]:
        """Record many interactions durably, all or nothing; returns the prompt ids newly added.

        Each item is a dict of :meth:`add_interaction`'s arguments (``prompt``, optional
        ``response``, ``agent``, ``session_id``, ``metadata``, ``timestamp`` and ``expires_at``,
        in the same shapes)
        or an ``Interaction``.
        Every item is checked before anything is written: an invalid item
        (``InvalidInteractionError``), or a prompt id stored, or given earlier in the batch,
        with other content (``ConflictError``), and nothing is written. Items stored already
        with the same content are skipped. Prompts are encoded 2,048 at a time, and
        the whole batch is then written by one call of the store (its vectors are held in
        memory until then). A store that fails after it began writing and cannot undo it
        raises ``PartialWriteError``, whose ``written_ids`` lists what was stored. With
        ``on_conflict="skip"`` the conflicting items are left out and the rest is written; with
        ``"replace"`` a stored prompt's content is replaced (a response id of another prompt is
        still a ``ConflictError``). Returns the prompt ids written.
        """
        check_on_conflict(on_conflict)
        with collector_paused():  # its records all live until it ends (see _collector)
            items = [interaction_from_mapping(item, n) for n, item in enumerate(interactions)]
        if not items:
            return []
        items = self._expiring(items)  # an expiry from the graph's ttl is a valid one
        return self._record(items, on_conflict, checked=True)

    def update_interaction(
        self,
        prompt_id: str,
        *,
        response: Any = UNCHANGED,
        metadata: Any = UNCHANGED,
        prompt_text: Any = UNCHANGED,
    ) -> Interaction:
        """Change parts of a stored interaction durably and return it as stored now.

        ``response`` and ``prompt_text`` are a text or a dict with ``text`` (a response dict
        may give a new ``id``; a prompt stored without a response gets one, its id generated
        when missing); ``metadata`` replaces the metadata. The prompt keeps its id, agent,
        session, time and links. Only a new prompt text is embedded again: other changes keep
        the stored vector. Every index (vectors, keywords) and every other process sees the
        change once this returns (``NotFoundError`` for an unknown prompt).
        """
        with self._lock:
            self._catch_up()
            stored = self.store.get(prompt_id)
            if stored is None:
                raise NotFoundError(f"no prompt with id {prompt_id!r}")
            item = updated_interaction(
                stored, response=response, metadata=metadata, prompt_text=prompt_text
            )
            if item == stored:
                return stored
            kept = None
            if item.prompt_text == stored.prompt_text:
                found = self.store.vectors_of([prompt_id])
                kept = found.vectors if found.ids == [prompt_id] else None
            self._record([item], "replace", vectors=kept, rewrite=True)
            return item
