"""Sample interactions and vectors for tests and benchmarks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from raeburnmemory.core.model import Interaction
from raeburnmemory.core.store import Matrix

__all__ = ["interaction", "interactions", "unit_vectors"]

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
_TOPICS = (
    "reset a forgotten password",
    "bake sourdough bread at home",
    "tune a postgres database for writes",
    "plan a week of hiking in the alps",
    "write a haiku about autumn rain",
    "explain how vector search works",
    "fix a leaking kitchen tap",
    "choose a first programming language",
)


def interaction(
    index: int,
    *,
    sessions: int = 4,
    agents: int = 3,
    prefix: str = "p",
    **changes: Any,
) -> Interaction:
    """The ``index``-th sample interaction: deterministic text, session, agent and time."""
    topic = _TOPICS[index % len(_TOPICS)]
    fields: dict[str, Any] = {
        "prompt_id": f"{prefix}{index}",
        "prompt_text": f"How do I {topic}? (question {index})",
        "response_id": f"r-{prefix}{index}",
        "response_text": f"Here is how to {topic}, step by step ({index}).",
        "agent_id": f"agent-{index % agents}",
        "agent_name": f"Agent {index % agents}",
        "session_id": f"session-{index % sessions}",
        "timestamp": _EPOCH + timedelta(seconds=index),
        "metadata": {"n": index},
    }
    fields.update(changes)
    return Interaction(**fields)


def interactions(count: int, start: int = 0, **options: Any) -> list[Interaction]:
    """Sample interactions ``start`` .. ``start + count - 1``."""
    return [interaction(i, **options) for i in range(start, start + count)]


def unit_vectors(count: int, dim: int = 32, seed: int = 0) -> Matrix:
    """``count`` random L2-normalized float32 vectors."""
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((count, dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix
