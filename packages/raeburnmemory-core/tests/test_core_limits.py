"""The rules of what a record may hold, and JSON text read and written at any depth."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raeburnmemory.core import json_text
from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.limits import (
    MAX_DEPTH,
    MAX_ID_LENGTH,
    MAX_JSON_BYTES,
    check_id,
    check_json_object,
    check_timestamp,
    check_vectors,
    id_problem,
)
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.records import interaction_from_mapping, make_interaction
from raeburnmemory.core.testing.data import interaction
from raeburnmemory.core.testing.examples import examples

GOOD_IDS = [
    "p1",
    "with space",
    " padded ",
    "a/b",
    "../..",
    "100%",
    "#frag",
    "?q=1&r=2",
    "\u00e9t\u00e9 \u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\U0001f600",
    "\u2028\u200b\ufeff",  # separators and format characters are printable enough
    "x" * MAX_ID_LENGTH,
]
BAD_IDS = [
    "",
    "   ",
    "\u3000",
    "line\nbreak",
    "tab\t",
    "nul\x00",
    "del\x7f",
    "c1\x85",
    "\ud800",
    "a\udfffb",
    "x" * (MAX_ID_LENGTH + 1),
]


def nested(depth: int, leaf: Any = 1) -> dict[str, Any]:
    """An object ``depth`` levels deep (itself level 1)."""
    value: dict[str, Any] = {"leaf": leaf}
    for _ in range(depth - 1):
        value = {"in": value}
    return value


def deep_list(depth: int) -> list[Any]:
    """A list nested ``depth`` levels deep, built without recursion."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def depth_of(value: Any) -> int:
    """How deep a value nests, measured without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


def _add(memory: MemoryGraph, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "prompt": {"id": "p1", "text": "hello"},
        "response": {"id": "r1", "text": "hi"},
        "agent": {"id": "a1"},
        "session_id": "s1",
        **changes,
    }
    return memory.add_interaction(**fields)


# -- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ident", GOOD_IDS)
def test_good_ids_pass(ident: str) -> None:
    assert id_problem(ident) is None
    assert check_id(ident, "prompt id") == ident


@pytest.mark.parametrize("ident", BAD_IDS)
def test_bad_ids_are_refused_with_the_field_named(ident: str) -> None:
    assert id_problem(ident) is not None
    with pytest.raises(InvalidInteractionError, match=r"^session_id "):
        check_id(ident, "session_id")


@pytest.mark.parametrize("value", [None, 3, b"p1", ["p1"]])
def test_ids_must_be_strings(value: Any) -> None:
    with pytest.raises(InvalidInteractionError, match="must be a string"):
        check_id(value, "agent id")


@pytest.mark.parametrize("field", ["prompt", "response", "agent"])
def test_make_interaction_refuses_a_control_character_in_each_id(field: str) -> None:
    parts: dict[str, Any] = {
        "prompt": {"id": "p", "text": "t"},
        "response": {"id": "r", "text": "t"},
        "agent": {"id": "a"},
    }
    parts[field] = {**parts[field], "id": "bad\nid"}
    with pytest.raises(InvalidInteractionError, match=rf"{field} id .*control characters"):
        make_interaction(parts["prompt"], parts["response"], parts["agent"], "s")
    with pytest.raises(InvalidInteractionError, match=r"session_id .*control characters"):
        make_interaction({"id": "p", "text": "t"}, {"id": "r", "text": "t"}, {"id": "a"}, "s\r")


def test_link_relation_follows_the_id_rule(tmp_path: Path) -> None:
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory:
        _add(memory)
        _add(memory, prompt={"id": "p2", "text": "x"}, response={"id": "r2", "text": "y"})
        with pytest.raises(InvalidInteractionError, match=r"relation .*control characters"):
            memory.link_prompts("p1", "p2", "cites\n")
        memory.link_prompts("p1", "p2", "cites / quotes")


# -- texts, metadata and attributes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": {"id": "p1", "text": "bad \ud800"}}, "prompt text contains a lone surrogate"),
        ({"response": {"id": "r1", "text": "\udc00"}}, "response text contains a lone surrogate"),
        ({"agent": {"id": "a1", "name": "\ud83d"}}, "agent name contains a lone surrogate"),
        (
            {"response": {"id": "r1", "text": "a\x00b"}},
            r"response text contains NUL \(U\+0000 at 1",
        ),
        ({"metadata": {"k\ud800": 1}}, r"metadata: key '.*' has a lone surrogate"),
        ({"metadata": {"k": ["ok", "\udfff"]}}, r"metadata\['k'\]\[1\]: the text has a lone"),
        ({"metadata": {"k": float("inf")}}, r"metadata\['k'\]: inf is not a finite number"),
        ({"metadata": {"k": {1: 2}}}, r"metadata\['k'\]: keys must be strings"),
        ({"metadata": {"k": {1, 2}}}, r"metadata\['k'\]: set is not JSON-serializable"),
        ({"metadata": nested(MAX_DEPTH + 1)}, "metadata is nested more than 32 levels deep"),
        ({"metadata": {"k": deep_list(MAX_DEPTH)}}, "metadata is nested more than 32"),
        ({"metadata": {"big": "x" * MAX_JSON_BYTES}}, "metadata takes 65546 bytes as JSON"),
        ({"prompt": {"id": "p1", "text": "t", "a": nested(40)}}, "prompt attributes is nested"),
        ({"agent": {"id": "a1", "big": "\u00e9" * 40_000}}, "agent attributes takes 80010 bytes"),
    ],
)
def test_make_interaction_names_what_is_over_a_limit(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory:
        with pytest.raises(InvalidInteractionError, match=message):
            _add(memory, **changes)
        assert memory.stats()["interactions"] == 0


def test_metadata_at_the_limits_is_kept(tmp_path: Path) -> None:
    metadata = {**nested(MAX_DEPTH), "big": "x" * (MAX_JSON_BYTES - 1000)}
    attrs = {"lang": ["en", {"deep": deep_list(MAX_DEPTH - 3)}]}
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory:
        _add(memory, metadata=metadata, agent={"id": "a1", **attrs})
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory:
        item = memory.get_interaction("p1")
    assert item.metadata == metadata
    assert item.agent_attrs == attrs


def test_a_cycle_is_refused_not_a_recursion_error() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(InvalidInteractionError, match="nested more than"):
        check_json_object(cyclic, "metadata")
    with pytest.raises(InvalidInteractionError, match="nested more than"):
        check_json_object(nested(200_000), "metadata")


def test_tuples_count_as_lists() -> None:
    assert check_json_object({"pair": (1, 2)}, "metadata") == {"pair": (1, 2)}


# -- timestamps ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:30:00+01:00",
        1e20,
        -1e15,
        "10000-01-01T00:00:00Z",
    ],
)
def test_timestamps_outside_the_years_1_to_9999_are_refused(tmp_path: Path, moment: Any) -> None:
    with (
        MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory,
        pytest.raises(InvalidInteractionError, match="timestamp"),
    ):
        _add(memory, timestamp=moment)


def test_timestamps_at_the_ends_of_the_range_are_kept(tmp_path: Path) -> None:
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory:
        _add(memory, timestamp="0001-01-01T00:00:00Z")
        _add(
            memory,
            prompt={"id": "p2", "text": "t"},
            response={"id": "r2", "text": "t"},
            timestamp="9999-12-31T23:59:59.999999+00:00",
        )
        assert memory.get_interaction("p1").timestamp.year == 1
        assert memory.get_interaction("p2").timestamp.year == 9999
        assert [item.prompt_id for item in memory.get_session("s1")] == ["p1", "p2"]


def test_check_timestamp_refuses_an_interaction_built_by_hand() -> None:
    late = datetime(9999, 12, 31, 22, tzinfo=timezone(timedelta(hours=-3)))
    with pytest.raises(InvalidInteractionError, match="years 1 to 9999"):
        check_timestamp(late)
    with pytest.raises(InvalidInteractionError, match="item 0: prompt 'p0': timestamp"):
        interaction_from_mapping(interaction(0, timestamp=late), 0)


# -- vectors ---------------------------------------------------------------------------------------


def test_check_vectors_names_the_first_bad_row() -> None:
    vectors = np.ones((20_000, 4), dtype=np.float32)
    check_vectors(vectors)
    vectors[17_000, 2] = np.nan
    with pytest.raises(InvalidInteractionError, match="row 17000"):
        check_vectors(vectors)


# -- JSON text at any depth ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8")),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=5), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=examples(200), deadline=None)
@given(JSON_VALUES)
def test_json_text_agrees_with_the_json_module(value: Any) -> None:
    text = json.dumps(value)
    assert "".join(json_text._encode(value)) == text
    assert json_text._decode(text) == json.loads(text)
    spaced = json.dumps(value, indent=2, ensure_ascii=False)
    assert json_text._decode(spaced) == json.loads(spaced)


@pytest.mark.parametrize(
    "text", ["[1,]", '{"a" 1}', "[1 2]", '{"a": 1,}', "", "[1] x", "{1: 2}", '"open', "[01]", "["]
)
def test_json_text_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        json_text._decode(text)


def test_json_text_reads_and_writes_past_the_recursion_limit() -> None:
    value = {"top": [nested(50_000, leaf="\u00e9\ud83d\ude00")]}
    with pytest.raises(RecursionError):
        json.dumps(value)
    text = json_text.dumps(value)
    with pytest.raises(RecursionError):
        json.loads(text)
    again = json_text.loads(text.encode())
    assert depth_of(again) == 50_002
    assert json_text.dumps(again) == text
