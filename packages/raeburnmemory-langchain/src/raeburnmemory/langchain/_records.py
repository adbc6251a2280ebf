"""How LangChain's documents and messages become memories, and memories documents."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from langchain_core.documents import Document

from raeburnmemory.core.model import Interaction, SearchHit
from raeburnmemory.memory_graph import MemoryGraph

__all__ = ["document_of", "prompt_only"]

# Whether the core records a prompt without a response; older cores need a stand-in response.
_RESPONSE_OPTIONAL = (
    inspect.signature(MemoryGraph.add_interaction).parameters["response"].default is None
)


def prompt_only(
    prompt_id: str,
    text: str,
    metadata: Mapping[str, Any] | None,
    *,
    session_id: str,
    agent_id: str | None = None,
    timestamp: Any = None,
) -> dict[str, Any]:
    """A ``batch_add`` item recording ``text`` as a prompt on its own (no response)."""
    item: dict[str, Any] = {
        "prompt": {"id": prompt_id, "text": text},
        "session_id": session_id,
        "metadata": dict(metadata or {}),
    }
    if not _RESPONSE_OPTIONAL:
        item["response"] = {"id": prompt_id, "text": ""}
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
