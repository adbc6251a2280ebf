"""Reading interactions from JSON Lines: both shapes, and a clear reason for every bad line."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from raeburnmemory.cli._jsonl import LineError, iter_lines, parse_line


def nested(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "prompt": {"id": "p1", "text": "Hello?", "lang": "en"},
        "response": {"id": "r1", "text": "Hi!"},
        "agent": {"id": "a1", "name": "Greeter"},
        "session_id": "s1",
        "metadata": {"n": 1},
        "timestamp": "2025-01-06T09:00:00Z",
    }
    record.update(changes)
    return record


def test_the_nested_shape_becomes_an_interaction() -> None:
    item = parse_line(json.dumps(nested()))
    assert item is not None
    assert (item.prompt_id, item.prompt_text, item.response_id, item.response_text) == (
        "p1",
        "Hello?",
        "r1",
        "Hi!",
    )
    assert (item.agent_id, item.agent_name, item.session_id) == ("a1", "Greeter", "s1")
    assert dict(item.metadata) == {"n": 1}
    assert dict(item.prompt_attrs) == {"lang": "en"}
    assert item.timestamp.isoformat() == "2025-01-06T09:00:00+00:00"


def test_the_flat_shape_of_show_json_reads_back_the_same() -> None:
    first = parse_line(json.dumps(nested()))
    assert first is not None
    again = parse_line(json.dumps(first.to_dict()))
    assert again == first


def test_blank_lines_are_nothing() -> None:
    assert parse_line("   \n") is None
    assert parse_line("") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, found list"),
        ('{"hello": 1}', "expected an interaction"),
        (json.dumps(nested(extra=1)), "unknown keys extra"),
        (json.dumps({k: v for k, v in nested().items() if k != "prompt"}), "missing keys prompt"),
        (json.dumps(nested(prompt={"id": "", "text": "x"})), "prompt id '' must not be empty"),
        (json.dumps(nested(prompt={"id": "a\nb", "text": "x"})), "must not contain control"),
        (json.dumps(nested(prompt={"id": "p", "text": 3})), "prompt text must be a string"),
        (json.dumps(nested(metadata=[1])), "metadata must be a dict"),
        (json.dumps(nested(timestamp="yesterday")), "ISO 8601"),
        (json.dumps(nested(session_id=7)), "session_id must be a string, not int"),
        (
            json.dumps(
                nested(
                    metadata={
                        "deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
                    }
                )
            ),
            "nested more than 32",
        ),
        (json.dumps(nested(prompt={"id": "p", "text": "t", "kind": "x"})), "reserved"),
        ('{"prompt_id": "p1", "prompt_text": "x"}', "missing key(s)"),
        (
            json.dumps({**json.loads(json.dumps(nested())), "prompt_id": "p"}),
            "unknown key(s)",
        ),
    ],
)
def test_a_bad_line_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(LineError) as caught:
        parse_line(text)
    assert reason in str(caught.value)
    assert not str(caught.value).startswith("item ")


def test_lines_are_numbered_and_sized_and_bad_utf8_is_flagged() -> None:
    data = b'{"a": 1}\n\xff\xfe\n\nlast'
    assert list(iter_lines(io.BytesIO(data))) == [
        (1, 9, '{"a": 1}\n'),
        (2, 3, None),
        (3, 1, "\n"),
        (4, 4, "last"),
    ]
