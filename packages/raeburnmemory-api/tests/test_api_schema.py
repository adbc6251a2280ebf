"""A property-based run of the OpenAPI schema: no 5xx and no answer outside the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from raeburnmemory.api import Settings, create_app
from raeburnmemory.memory_graph import MemoryGraph

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _memory(path: Path) -> MemoryGraph:
    """A graph with a few interactions in it, so searches have something to find."""
    memory = MemoryGraph(path, embedding_model=None)
    memory.batch_add(
        {
            "prompt": {"id": f"p{i}", "text": f"prompt {i}"},
            "response": {"id": f"r{i}", "text": f"response {i}"},
            "agent": {"id": "a"},
            "session_id": f"s{i % 2}",
        }
        for i in range(4)
    )
    return memory


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schema_holds(tmp_path: Path, mode: GenerationMode) -> None:
    memory = _memory(tmp_path / "graph.json")
    app = create_app(Settings(embedding_model="none"), memory=memory)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11

    checked = 0
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def holds(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            holds()
        except Unsatisfiable:
            # Nothing in a request without parameters or body can be made invalid.
            assert mode is GenerationMode.NEGATIVE
            continue
        checked += 1
    memory.close()
    assert checked >= 7
