"""Every route and every error answer, in process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

Body = Callable[..., dict[str, Any]]


def assert_error(response: Any, status: int, type_name: str) -> dict[str, Any]:
    """The response is an error of the one shape, with this status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == type_name
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    detail: dict[str, Any] = body["error"]
    return detail


def test_health_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/memory/graph",
        "/memory/similar",
        "/memory/interactions",
        "/memory/interactions/batch",
        "/memory/interactions/{prompt_id}",
        "/memory/sessions/{session_id}",
        "/healthz",
    ):
        assert path in paths


def test_add_get_and_search(client: TestClient, make_interaction: Body) -> None:
    response = client.post("/memory/interactions", json=make_interaction(1))
    assert response.status_code == 201
    assert response.json() == {"prompt_id": "p1"}
    client.post("/memory/interactions", json=make_interaction(2, text="Hello there"))
    got = client.get("/memory/interactions/p1").json()
    assert got["prompt_text"] == "question number 1 about topic 1"
    assert got["response_id"] == "r1"
    assert got["agent_name"] == "Helper"
    assert got["metadata"] == {"n": 1}
    found = client.post("/memory/similar", json={"text": "Hello there?", "top_k": 1}).json()
    assert found["ids"] == ["p2"]
    hit = found["hits"][0]
    assert hit["prompt_text"] == "Hello there"
    assert hit["response_text"] == "answer 2"
    assert 0 < hit["score"] <= 1.0001


def test_extra_attributes_and_timestamp(client: TestClient, make_interaction: Body) -> None:
    body = make_interaction(1)
    body["prompt"]["lang"] = "en"
    body["timestamp"] = "2024-05-01T12:00:00Z"
    assert client.post("/memory/interactions", json=body).status_code == 201
    got = client.get("/memory/interactions/p1").json()
    assert got["prompt_attrs"] == {"lang": "en"}
    assert got["timestamp"].startswith("2024-05-01T12:00:00")


def test_similar_filters(client: TestClient, make_interaction: Body) -> None:
    for index in range(6):
        client.post("/memory/interactions", json=make_interaction(index, f"s{index % 2}"))
    found = client.post(
        "/memory/similar", json={"text": "question number", "top_k": 10, "session_id": "s1"}
    ).json()
    assert sorted(found["ids"]) == ["p1", "p3", "p5"]
    none = client.post(
        "/memory/similar", json={"text": "question", "agent_id": "nobody", "top_k": 3}
    ).json()
    assert none == {"ids": [], "hits": []}


def test_batch_add_and_sessions(client: TestClient, make_interaction: Body) -> None:
    items = [make_interaction(i, "s-batch") for i in range(5)]
    response = client.post("/memory/interactions/batch", json={"interactions": items})
    assert response.status_code == 200
    assert response.json() == {"added": ["p0", "p1", "p2", "p3", "p4"]}
    again = client.post("/memory/interactions/batch", json={"interactions": items[:2]})
    assert again.json() == {"added": []}  # same content: nothing new
    session = client.get("/memory/sessions/s-batch").json()
    assert session["session_id"] == "s-batch"
    assert [i["prompt_id"] for i in session["interactions"]] == ["p0", "p1", "p2", "p3", "p4"]
    assert client.get("/memory/sessions").json() == {"sessions": ["s-batch"]}
    assert client.get("/memory/stats").json()["interactions"] == 5


def test_ids_with_slashes_and_odd_characters(client: TestClient, make_interaction: Body) -> None:
    body = make_interaction(1, session="team/a b")
    body["prompt"]["id"] = "odd/id ?#%"
    assert client.post("/memory/interactions", json=body).status_code == 201
    assert client.get("/memory/interactions/odd%2Fid%20%3F%23%25").status_code == 200
    assert client.get("/memory/sessions/team%2Fa%20b").status_code == 200
    assert client.delete("/memory/interactions/odd%2Fid%20%3F%23%25").status_code == 204


def test_delete_interaction_and_session(client: TestClient, make_interaction: Body) -> None:
    for index in range(3):
        client.post("/memory/interactions", json=make_interaction(index))
    assert client.delete("/memory/interactions/p0").status_code == 204
    assert_error(client.get("/memory/interactions/p0"), 404, "NotFoundError")
    found = client.post("/memory/similar", json={"text": "question number 0", "top_k": 5})
    assert "p0" not in found.json()["ids"]
    deleted = client.delete("/memory/sessions/s1")
    assert deleted.json() == {"session_id": "s1", "deleted": ["p1", "p2"]}
    assert_error(client.get("/memory/sessions/s1"), 404, "NotFoundError")
    assert_error(client.delete("/memory/sessions/s1"), 404, "NotFoundError")
    assert_error(client.delete("/memory/interactions/p1"), 404, "NotFoundError")


def test_graph_is_node_link_json(client: TestClient, make_interaction: Body) -> None:
    client.post("/memory/interactions", json=make_interaction(1, "a"))
    client.post("/memory/interactions", json=make_interaction(2, "b"))
    response = client.get("/memory/graph")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    graph = response.json()
    assert graph["directed"] is True
    keys = {node["id"] for node in graph["nodes"]}
    assert {"prompt:p1", "prompt:p2", "session:a", "session:b", "agent:agent-1"} <= keys
    one = client.get("/memory/graph", params={"session_id": "a"}).json()
    assert {node["id"] for node in one["nodes"] if node["kind"] == "prompt"} == {"prompt:p1"}
    assert_error(client.get("/memory/graph", params={"session_id": "zz"}), 404, "NotFoundError")


def test_graph_of_an_empty_store(client: TestClient) -> None:
    graph = client.get("/memory/graph").json()
    assert graph["nodes"] == []
    assert graph["edges"] == []


def test_conflict_is_409_and_changes_nothing(client: TestClient, make_interaction: Body) -> None:
    client.post("/memory/interactions", json=make_interaction(1))
    changed = make_interaction(1)
    changed["prompt"]["text"] = "something else"
    assert_error(client.post("/memory/interactions", json=changed), 409, "ConflictError")
    assert client.get("/memory/interactions/p1").json()["prompt_text"].startswith("question")
    batch = {"interactions": [make_interaction(7), changed]}
    assert_error(client.post("/memory/interactions/batch", json=batch), 409, "ConflictError")
    assert_error(client.get("/memory/interactions/p7"), 404, "NotFoundError")


def test_no_embeddings_is_409(client: TestClient) -> None:
    detail = assert_error(
        client.post("/memory/similar", json={"text": "anything"}), 409, "NoEmbeddingsError"
    )
    assert "no embeddings" in detail["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"text": "x", "top_k": 0},
        {"text": "x", "top_k": 1001},
        {"text": "x", "top_k": "five"},
        {"top_k": 3},
        {"text": "x", "mode": "psychic"},
        {"text": "x", "since": "not a date"},
        {"text": "x", "min_score": 7},
        [],
    ],
)
def test_bad_search_is_422(client: TestClient, body: Any) -> None:
    detail = assert_error(client.post("/memory/similar", json=body), 422, "InvalidRequestError")
    assert detail["errors"]


@pytest.mark.parametrize("raw", [b"{not json", b"\x0e\xff\x1d\xfe", b""])
def test_unreadable_body_is_422(client: TestClient, raw: bytes) -> None:
    headers = {"content-type": "application/json"}
    response = client.post("/memory/interactions", content=raw, headers=headers)
    detail = assert_error(response, 422, "InvalidRequestError")
    assert detail["message"].startswith("the body must be JSON: ")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "multipart/form"])
def test_a_body_not_sent_as_json_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/memory/similar", content=b'{"text": "x"}', headers=headers)
    detail = assert_error(response, 415, "InvalidRequestError")
    assert detail["message"].startswith("the body must be JSON: send it with")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
def test_json_media_types_are_accepted(client: TestClient, content_type: str) -> None:
    headers = {"content-type": content_type}
    response = client.post("/memory/similar", content=b'{"text": "x"}', headers=headers)
    assert response.status_code == 409  # the store is empty: the body itself was fine


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.pop("prompt"),
        lambda b: b["prompt"].pop("text"),
        lambda b: b["prompt"].update(id=""),
        lambda b: b["agent"].update(id=5),
        lambda b: b.update(session_id=""),
        lambda b: b.update(metadata=[1, 2]),
        lambda b: b.update(timestamp="yesterday"),
    ],
)
def test_bad_interaction_is_422(client: TestClient, make_interaction: Body, change: Any) -> None:
    body = make_interaction(1)
    change(body)
    assert_error(client.post("/memory/interactions", json=body), 422, "InvalidRequestError")


def test_rejected_by_the_library_is_422(client: TestClient, make_interaction: Body) -> None:
    body = make_interaction(1)
    body["prompt"]["kind"] = "reserved"  # a name the graph uses itself
    detail = assert_error(
        client.post("/memory/interactions", json=body), 422, "InvalidInteractionError"
    )
    assert "kind" in detail["message"]
    blank = make_interaction(2, session="   ")
    assert_error(client.post("/memory/interactions", json=blank), 422, "InvalidInteractionError")


def test_unknown_route_and_method(client: TestClient) -> None:
    detail = assert_error(client.get("/memory/nothing-here"), 404, "ApiError")
    assert "/memory/nothing-here" in detail["message"]
    assert_error(client.get("/elsewhere"), 404, "ApiError")
    assert_error(client.put("/memory/similar", json={}), 405, "ApiError")


def test_body_over_the_limit_is_413(make_app: Callable[..., TestClient]) -> None:
    client = make_app(max_body_bytes=2048)
    big = {"text": "x" * 4096}
    assert_error(client.post("/memory/similar", json=big), 413, "RequestTooLargeError")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it arrives
        yield b'{"text": "'
        for _ in range(10):
            yield b"y" * 512
        yield b'"}'

    response = client.post(
        "/memory/similar", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "RequestTooLargeError")
    assert client.post("/memory/similar", json={"text": "small"}).status_code == 409


def test_api_key(make_app: Callable[..., TestClient], make_interaction: Body) -> None:
    client = make_app(api_key="s3cret-key")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-key"}):
        response = client.get("/memory/sessions", headers=headers)
        assert_error(response, 401, "AuthenticationError")
        assert response.headers["www-authenticate"].startswith("Bearer")
    good = {"Authorization": "Bearer s3cret-key"}
    assert client.get("/memory/sessions", headers=good).status_code == 200
    response = client.post("/memory/interactions", json=make_interaction(1), headers=good)
    assert response.status_code == 201
    assert client.get("/healthz").status_code == 200  # no key needed


def test_no_key_logs_a_warning(
    make_app: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="raeburnmemory.api"):
        make_app()
    assert any("RAEBURN_API_KEY" in record.getMessage() for record in caplog.records)


def test_rate_limit_in_process(make_app: Callable[..., TestClient]) -> None:
    client = make_app(rate_limit=3)
    statuses = [client.get("/memory/sessions").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    response = client.get("/memory/sessions")
    assert_error(response, 429, "RateLimitedError")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert client.get("/healthz").status_code == 200  # not limited


def test_stats(client: TestClient, make_interaction: Body) -> None:
    client.post("/memory/interactions", json=make_interaction(1))
    stats = client.get("/memory/stats").json()
    assert stats["interactions"] == 1
    assert stats["storage_backend"] == "json"
    assert stats["encoder"] == "raeburn-hashing-384"


def test_error_bodies_are_json_objects(client: TestClient) -> None:
    raw = client.get("/memory/interactions/missing").content
    assert json.loads(raw)["error"]["type"] == "NotFoundError"
