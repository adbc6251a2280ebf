"""Without networkx and faiss the core still works, and files move between the two worlds."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from raeburnmemory.core.graph import SimpleDiGraph
from raeburnmemory.memory_graph import MemoryGraph

MINIMAL = os.environ.get("RAEBURN_EXPECT_MINIMAL") == "1"


@pytest.mark.skipif(not MINIMAL, reason="only in the minimal environment")
def test_the_minimal_environment_really_lacks_the_optional_libraries() -> None:
    for name in ("faiss", "networkx", "sentence_transformers", "torch"):
        assert importlib.util.find_spec(name) is None, name


def test_the_stand_in_graph_is_used_without_networkx(tmp_path: Path) -> None:
    with MemoryGraph(db_path=tmp_path / "g.json", embedding_model=None) as graph:
        graph.add_interaction({"id": "p", "text": "t"}, {"id": "r", "text": "t"}, {"id": "a"}, "s")
        g = graph.graph
        if importlib.util.find_spec("networkx") is None:
            assert isinstance(g, SimpleDiGraph)
        assert list(g.successors("prompt:p")) == ["response:r", "session:s"]
        assert dict(g.nodes(data=True))["prompt:p"]["kind"] == "prompt"


# A module set to None in sys.modules cannot be imported and is not found by find_spec.
HIDE = """
import sys
for name in {hidden!r}:
    sys.modules[name] = None
"""


ADD = """
from raeburnmemory.memory_graph import MemoryGraph
with MemoryGraph(db_path=sys.argv[1], embedding_model=None) as g:
    pid, text = sys.argv[2], sys.argv[3]
    g.add_interaction({"id": pid, "text": text}, {"id": "r" + pid, "text": "x"}, {"id": "a"}, "s")
    g.export()
    print(g.vector_backend, sorted(g.get_similar_prompts(sys.argv[3], 5)))
"""


def _add(path: Path, pid: str, text: str, hidden: tuple[str, ...]) -> str:
    program = HIDE.format(hidden=set(hidden)) + ADD
    done = subprocess.run(
        [sys.executable, "-c", program, str(path), pid, text], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(importlib.util.find_spec("faiss") is None, reason="needs faiss")
def test_a_store_written_with_faiss_opens_without_it_and_back(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    assert _add(path, "p1", "written with faiss", ()) == "faiss ['p1']"
    assert _add(path, "p2", "written without faiss", ("faiss",)) == "numpy ['p1', 'p2']"
    assert _add(path, "p3", "and faiss again", ()) == "faiss ['p1', 'p2', 'p3']"


def test_the_stand_in_keeps_attributes_named_like_its_parameters() -> None:
    graph = SimpleDiGraph()
    graph.add_node("prompt:p", key="p", kind="prompt")
    graph.add_node("prompt:q", key="q")
    graph.add_edge("prompt:p", "prompt:q", source="a", target="b", relation="x")
    assert graph.nodes["prompt:p"]["key"] == "p"
    assert graph.edges["prompt:p", "prompt:q"]["source"] == "a"
