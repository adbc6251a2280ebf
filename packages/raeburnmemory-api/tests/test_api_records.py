"""Whatever the API accepts, every read route and the client give back unchanged, never a 5xx.

Against a real ``uvicorn raeburnmemory.api:app``: odd but valid ids are read and deleted through
every route; what the library's rules refuse is a 422 naming the field; and random valid records
(hypothesis) written through the API read back equal through every read route.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raeburnmemory.api.client import MemoryClient
from raeburnmemory.core.errors import NotFoundError
from raeburnmemory.core.graph import PROMPT_FIELDS
from raeburnmemory.core.limits import MAX_DEPTH, MAX_ID_LENGTH
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.records import interaction_from_mapping
from raeburnmemory.core.testing.examples import examples

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

ODD_IDS = [
    "with space",
    "  padded  ",
    "a/b",
    "a//b",
    "/leading",
    "trailing/",
    ".",
    "..",
    "../up",
    "100%",
    "%2F",
    "%zz",
    "#fragment",
    "?q=1&r=2",
    "a+b;c=d,e",
    "back\\slash",
    "quote\"'`",
    "<tag>&amp;",
    "\u00e9t\u00e9 \u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\U0001f600\U0001f468\u200d\U0001f469",
    "\u2028line\u2029separators",
    "\ufeffbom",
    "x" * (MAX_ID_LENGTH - len("r:batch ")),  # the longest id comes from this one
]
FIELDS = ["prompt", "response", "agent", "session_id"]
REFUSED_IDS = ["new\nline", "tab\there", "nul\x00", "esc\x1b", "del\x7f", "c1\x85", " ", ""]


@pytest.fixture
def server(start_server: Callable[..., Any]) -> Any:
    """One real uvicorn worker on a fresh JSON store."""
    return start_server({}, workers=1)


@pytest.fixture
def client(server: Any) -> Iterator[MemoryClient]:
    """The synchronous client of the server."""
    with MemoryClient(server.url) as memory:
        yield memory


def _body(prompt_id: str, session_id: str, agent_id: str = "agent") -> dict[str, Any]:
    return {
        "prompt": {"id": prompt_id, "text": f"a question about {prompt_id}"},
        "response": {"id": f"r:{prompt_id}", "text": "an answer"},
        "agent": {"id": agent_id, "name": "Agent"},
        "session_id": session_id,
        "metadata": {"id": prompt_id},
    }


def _path(route: str, ident: str) -> str:
    """The route's path for an id, percent-encoded (dots too: ``..`` alone would climb)."""
    segment = quote(ident, safe="")
    if segment in (".", ".."):
        segment = "%2E" * len(segment)
    return f"/memory/{route}/{segment}"


@pytest.mark.parametrize("route", ["interactions", "sessions"])
def test_dot_segments_are_not_ids_of_their_own(server: Any, route: str) -> None:
    """A client sends ``.`` and ``..`` percent-encoded; unencoded they are paths, not ids."""
    answer = httpx.get(f"{server.url}/memory/{route}/%2E%2E")
    assert answer.status_code == 404


def test_every_odd_id_is_read_and_deleted_through_every_route(
    server: Any, client: MemoryClient
) -> None:
    for ident in ODD_IDS:
        client.add_interaction(**_body(ident, ident, agent_id=ident))
    client.batch_add([_body(f"batch {ident}", ident) for ident in ODD_IDS])
    assert set(ODD_IDS) <= set(client.sessions())
    with httpx.Client(base_url=server.url) as raw:
        for ident in ODD_IDS:
            item = client.get_interaction(ident)
            assert (item.prompt_id, item.session_id, item.agent_id) == (ident, ident, ident)
            assert item.metadata == {"id": ident}
            assert raw.get(_path("interactions", ident)).json()["prompt_id"] == ident
            members = [found.prompt_id for found in client.get_session(ident)]
            assert sorted(members) == sorted([ident, f"batch {ident}"])
            assert raw.get(_path("sessions", ident)).json()["session_id"] == ident
            hits = client.search(f"a question about {ident}", top_k=5, session_id=ident)
            assert {hit.id for hit in hits} == {ident, f"batch {ident}"}
            assert client.get_similar_prompts("question", agent_id=ident) == [ident]
            graph = client.node_link_data(session_id=ident)
            assert {node["key"] for node in graph["nodes"] if node["kind"] == "prompt"} == {
                ident,
                f"batch {ident}",
            }
        for ident in ODD_IDS:
            client.delete_interaction(ident)
            with pytest.raises(NotFoundError):
                client.get_interaction(ident)
            assert raw.delete(_path("interactions", f"batch {ident}")).status_code == 204
            assert raw.get(_path("sessions", ident)).status_code == 404
        client.add_interaction(**_body("last", "a/b"))
        assert client.delete_session("a/b") == ["last"]
    assert client.stats()["interactions"] == 0


def test_ids_the_rule_refuses_are_422_naming_the_field_and_write_nothing(server: Any) -> None:
    with httpx.Client(base_url=server.url) as raw:
        for ident, field in itertools.product(REFUSED_IDS, FIELDS):
            body = _body("p1", "s1")
            if field == "session_id":
                body["session_id"] = ident
            else:
                body[field] = {**body[field], "id": ident}
            for path, payload in (
                ("/memory/interactions", body),
                ("/memory/interactions/batch", {"interactions": [_body("p0", "s0"), body]}),
            ):
                answer = raw.post(path, json=payload)
                assert answer.status_code == 422, (ident, field, answer.text)
                error = answer.json()["error"]
                assert error["type"] in ("InvalidInteractionError", "InvalidRequestError")
                named = field if field == "session_id" else f"{field} id"
                assert named in error["message"] or named.replace(" ", ".") in error["message"]
        assert raw.get("/memory/stats").json()["interactions"] == 0


# -- random valid records --------------------------------------------------------------------------

_CHARS = st.characters(codec="utf-8")  # every character but lone surrogates
_TEXT_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")  # texts hold no NUL
_IDS = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1).filter(
    lambda text: not text.isspace()
)
_RESERVED = PROMPT_FIELDS | {"prompt_id", "name"}
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_CHARS, max_size=30)
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(_CHARS), inner, max_size=4),
    max_leaves=12,
)
_OBJECTS = st.dictionaries(st.text(_CHARS, max_size=10), _JSON, max_size=5).filter(
    lambda value: _depth(value) <= MAX_DEPTH
)
_ATTRIBUTES = st.dictionaries(
    st.text(_CHARS, max_size=10).filter(lambda key: key not in _RESERVED), _JSON, max_size=3
)
_MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))]
    ),
)
RECORDS = st.fixed_dictionaries(
    {
        "prompt_id": _IDS,
        "response_id": _IDS,
        "agent_id": _IDS,
        "session_id": _IDS,
        # a prompt needs words: an empty or blank prompt text is refused
        "prompt_text": st.text(_TEXT_CHARS, min_size=1, max_size=200).filter(str.strip),
        "response_text": st.text(_TEXT_CHARS, max_size=200),
        "agent_name": st.none() | st.text(_TEXT_CHARS, max_size=20),
        "metadata": _OBJECTS,
        "prompt_attrs": _ATTRIBUTES,
        "response_attrs": _ATTRIBUTES,
        "agent_attrs": _ATTRIBUTES,
        "timestamp": _MOMENTS,
    }
)


def _request(record: dict[str, Any]) -> dict[str, Any]:
    agent = {**record["agent_attrs"], "id": record["agent_id"]}
    if record["agent_name"] is not None:
        agent["name"] = record["agent_name"]
    return {
        "prompt": {
            **record["prompt_attrs"],
            "id": record["prompt_id"],
            "text": record["prompt_text"],
        },
        "response": {
            **record["response_attrs"],
            "id": record["response_id"],
            "text": record["response_text"],
        },
        "agent": agent,
        "session_id": record["session_id"],
        "metadata": record["metadata"],
        "timestamp": record["timestamp"].isoformat(),
    }


def _same(got: Interaction, expected: Interaction) -> None:
    assert got == expected
    assert got.timestamp.utcoffset() == timedelta(0)


def test_random_valid_records_read_back_unchanged_through_every_route(
    server: Any, client: MemoryClient
) -> None:
    counter = itertools.count()
    used: set[str] = set()

    @settings(
        max_examples=examples(50),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(RECORDS)
    def check(record: dict[str, Any]) -> None:
        number = next(counter)
        # ids stay unique across examples, so no two examples ever conflict
        for key in ("prompt_id", "response_id", "session_id"):
            record[key] = f"{record[key]}\u00b7{number}"
        assert not used & {record["prompt_id"], record["response_id"]}
        used.update((record["prompt_id"], record["response_id"]))
        body = _request(record)
        expected = interaction_from_mapping(body, 0)
        if number % 2:
            assert client.batch_add([body]) == [expected.prompt_id]
        else:
            assert client.add_interaction(**body) == expected.prompt_id
        _read_back(server, client, expected)

    check()


def _read_back(server: Any, client: MemoryClient, expected: Interaction) -> None:
    pid, sid = expected.prompt_id, expected.session_id
    _same(client.get_interaction(pid), expected)
    [member] = client.get_session(sid)
    _same(member, expected)
    assert sid in client.sessions()
    hits = client.search("anything at all", top_k=3, session_id=sid)
    assert [hit.id for hit in hits] == [pid]
    assert hits[0].metadata == expected.metadata
    assert hits[0].prompt_text == expected.prompt_text
    assert hits[0].timestamp == expected.timestamp
    graph = client.node_link_data(session_id=sid)
    [prompt] = [node for node in graph["nodes"] if node["kind"] == "prompt"]
    assert prompt["key"] == pid
    assert prompt["metadata"] == expected.metadata
    assert {k: v for k, v in prompt.items() if k not in PROMPT_FIELDS} == expected.prompt_attrs
    with httpx.Client(base_url=server.url) as raw:
        for path in (
            _path("interactions", pid),
            _path("sessions", sid),
            "/memory/sessions",
            "/memory/stats",
            f"/memory/graph?session_id={quote(sid, safe='')}",
            "/memory/graph",
        ):
            answer = raw.get(path)
            assert answer.status_code == 200, (path, answer.text)
            answer.json()
