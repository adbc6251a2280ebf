"""A real server says once, at start-up, that no model is available, and follows the library's
rules for search text, prompt text and ``top_k``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from raeburnmemory.core.errors import ConfigurationError, InvalidInteractionError
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import MAX_TOP_K

pytestmark = pytest.mark.slow


def _library_message(action: Callable[[MemoryGraph], Any], tmp_path: Any) -> str:
    """What the library says when ``action`` is refused."""
    with MemoryGraph(tmp_path / "library.json", embedding_model=None) as graph:
        graph.add_interaction({"id": "p", "text": "t"}, {"id": "r", "text": "x"}, {"id": "a"}, "s")
        with pytest.raises((ConfigurationError, InvalidInteractionError)) as caught:
            action(graph)
    return str(caught.value)


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="the real model is installed here: nothing falls back",
)
def test_a_missing_model_is_said_once_at_start_up(
    start_server: Callable[..., Any], make_interaction: Callable[..., dict[str, Any]]
) -> None:
    server = start_server({"RAEBURN_EMBED_MODEL": ""}, workers=1)
    said = [line for line in server.output().splitlines() if "RAEBURN_EMBED_MODEL=none" in line]
    assert len(said) == 1, server.output()  # before any request
    assert "pip install 'raeburnmemory-core[embeddings]'" in said[0]
    body = make_interaction(1)
    assert httpx.post(f"{server.url}/memory/interactions", json=body).status_code == 201
    assert server.output().count("RAEBURN_EMBED_MODEL=none") == 1  # not again at the write


def test_text_and_top_k_follow_the_library(
    start_server: Callable[..., Any], make_interaction: Callable[..., dict[str, Any]], tmp_path: Any
) -> None:
    server = start_server({}, workers=1)
    body = make_interaction(1)
    assert httpx.post(f"{server.url}/memory/interactions", json=body).status_code == 201
    empty_query = _library_message(lambda graph: graph.search("  "), tmp_path)
    for text in ("", "   "):
        answer = httpx.post(f"{server.url}/memory/similar", json={"text": text})
        assert answer.status_code == 422
        assert answer.json()["error"]["message"] == empty_query
    empty_prompt = _library_message(
        lambda graph: graph.add_interaction(
            {"id": "q", "text": ""}, {"id": "w", "text": "x"}, {"id": "a"}, "s"
        ),
        tmp_path,
    )
    blank = {**body, "prompt": {"id": "p2", "text": " "}}
    answer = httpx.post(f"{server.url}/memory/interactions", json=blank)
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == empty_prompt
    for top_k, status in ((MAX_TOP_K, 200), (MAX_TOP_K + 1, 422), (0, 422)):
        answer = httpx.post(f"{server.url}/memory/similar", json={"text": "hi", "top_k": top_k})
        assert answer.status_code == status, answer.text
    schema = httpx.get(f"{server.url}/openapi.json").json()
    top_k_schema = schema["components"]["schemas"]["SimilarRequest"]["properties"]["top_k"]
    assert (top_k_schema["minimum"], top_k_schema["maximum"]) == (1, MAX_TOP_K)
    assert f"1 to {MAX_TOP_K}" in top_k_schema["description"]
