"""How LangChain's documents and messages become memories, and memories documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.documents import Document

from raeburnmemory.core.model import Interaction, SearchHit

__all__ = ["document_of", "prompt_only", "response_of"]


def prompt_only(
    prompt_id: str,
    text: str | Mapping[str, Any],
    metadata: Mapping[str, Any] | None,
    *,
    session_id: str,
    agent_id: str | None = None,
    timestamp: Any = None,
) -> dict[str, Any]:
    """A ``batch_add`` item recording a prompt on its own (no response): ``text`` is the
    prompt's text, or a dict of its ``text`` and extra attributes."""
    prompt = {"text": text} if isinstance(text, str) else dict(text)
    item: dict[str, Any] = {
        "prompt": {**prompt, "id": prompt_id},
        "session_id": session_id,
        "metadata": dict(metadata or {}),
    }
    if agent_id is not None:
        item["agent"] = agent_id
    if timestamp is not None:
        item["timestamp"] = timestamp
    return item


def document_of(item: Interaction | SearchHit) -> Document:
    """The document of a stored memory: its prompt id, prompt text and metadata."""
    if isinstance(item, SearchHit):
        return Document(id=item.id, page_content=item.prompt_text, metadata=dict(item.metadata))
    return Document(id=item.prompt_id, page_content=item.prompt_text, metadata=dict(item.metadata))


def response_of(item: Interaction) -> tuple[str, Mapping[str, Any]] | None:
    """The text and extra attributes of a memory's response (``None`` for a prompt alone)."""
    if item.response_id is None or item.response_text is None:
        return None
    return item.response_text, item.response_attrs
