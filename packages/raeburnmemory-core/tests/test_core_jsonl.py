"""The JSON Lines export and import_file: round trips, encoders, and every kind of bad file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    ExportTargetError,
    NotFoundError,
)
from raeburnmemory.core.importing import import_file
from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.jsonl import (
    FORMAT_VERSION,
    ExportFormatError,
    JsonlFormatError,
    decode_vector,
    encode_vector,
    read_jsonl,
    write_jsonl,
)
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import EncoderInfo


def _fill(mg: MemoryGraph) -> None:
    mg.add_interaction(
        {"id": "p1", "text": "How do I bake bread?", "lang": "en"},
        {"id": "r1", "text": "Knead the dough.", "tone": "kind"},
        {"id": "a1", "name": "Baker", "role": "helper"},
        "s1",
        metadata={"tags": ["bread", "é"], "n": 1},
        timestamp="2025-01-06T09:00:00.123456Z",
    )
    mg.add_interaction(
        {"id": "p2", "text": "Which flour?"},
        {"id": "r2", "text": "Strong flour."},
        {"id": "a2"},
        "s1",
        timestamp="2025-01-06T09:01:00Z",
    )
    mg.add_interaction(
        {"id": "p3", "text": "And the oven?"}, {"id": "r3", "text": "Hot."}, {"id": "a1"}, "s2"
    )
    mg.link_prompts("p2", "p1", "follows_up")


def _content(mg: MemoryGraph) -> dict[str, Any]:
    store = mg.store
    stored = store.load_vectors()
    return {
        "interactions": [item.to_dict() for item in store.iter_interactions()],
        "sessions": {sid: [i.prompt_id for i in store.session(sid)] for sid in store.sessions()},
        "agents": [(agent.id, agent.name, dict(agent.attrs)) for agent in store.agents()],
        "links": sorted((link.source, link.target, link.relation) for link in store.links()),
        "vectors": {pid: stored.vectors[row].tobytes() for row, pid in enumerate(stored.ids)},
    }


@pytest.fixture
def source(tmp_path: Path) -> MemoryGraph:
    mg = MemoryGraph(tmp_path / "source" / "graph.json", embedding_model=None)
    _fill(mg)
    yield mg
    mg.close()


@pytest.fixture
def exported(source: MemoryGraph, tmp_path: Path) -> Path:
    path = tmp_path / "memory.jsonl"
    assert write_jsonl(source, path) == 3
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _write(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(text) + "\n", "utf-8")
    return path


def test_the_file_has_a_header_then_one_interaction_a_line(exported: Path) -> None:
    header, *lines = _lines(exported)
    assert header == {
        "format": "raeburnmemory-jsonl",
        "version": FORMAT_VERSION,
        "encoder": {"name": "raeburn-hashing-384", "dim": 384},
        "interactions": 3,
        "links": 1,
    }
    assert [line["prompt"]["id"] for line in lines] == ["p1", "p2", "p3"]
    assert lines[0]["prompt"] == {"id": "p1", "text": "How do I bake bread?", "lang": "en"}
    assert lines[0]["agent"] == {"id": "a1", "name": "Baker", "role": "helper"}
    assert lines[0]["timestamp"] == "2025-01-06T09:00:00.123456+00:00"
    assert lines[1]["links"] == [{"target": "p1", "relation": "follows_up"}]
    vector = decode_vector(lines[0]["vector"], 384)
    assert vector.shape == (384,)
    assert np.array_equal(vector, HashingEncoder(384).encode(["How do I bake bread?"])[0])


def test_a_jsonl_export_comes_back_whole_with_its_vectors(
    source: MemoryGraph, exported: Path, tmp_path: Path
) -> None:
    calls: list[tuple[int, int]] = []
    with MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy:
        result = import_file(
            copy, exported, progress=lambda *args: calls.append(args), batch_size=2
        )
        assert (result.format, result.added, result.skipped, result.links) == ("jsonl", 3, 0, 1)
        assert not result.reembedded
        assert _content(copy) == _content(source)
        again = import_file(copy, exported)
        assert (again.added, again.skipped) == (0, 3)
    assert calls == [(2, 3), (3, 3)]


def test_the_node_link_json_of_export_comes_back_too(source: MemoryGraph, tmp_path: Path) -> None:
    source.export(tmp_path / "graph-export.json")
    with MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy:
        result = import_file(copy, tmp_path / "graph-export.json")
        assert (result.format, result.added, result.links, result.reembedded) == (
            "node-link",
            3,
            1,
            True,
        )
        # The same (deterministic) encoder made the vectors again; only what an agent was
        # called on each line is lost (the file keeps an agent's latest name and attributes).
        got, expected = _content(copy), _content(source)
        for content in (got, expected):
            del content["agents"]
            for item in content["interactions"]:
                del item["agent_name"], item["agent_attrs"]
        assert got == expected


def test_a_graph_that_searched_before_the_import_finds_what_came_in(
    exported: Path, tmp_path: Path
) -> None:
    with MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy:
        copy.add_interaction(
            {"id": "x", "text": "unrelated words"}, {"id": "rx", "text": "."}, {"id": "a"}, "s"
        )
        assert [hit.id for hit in copy.search("bake bread", top_k=5)] == ["x"]
        import_file(copy, exported)
        assert copy.search("bake bread", top_k=1)[0].id == "p1"
        assert len(copy.search("bake bread", top_k=10)) == 4


def test_another_encoder_re_encodes_unless_refused(exported: Path, tmp_path: Path) -> None:
    other = HashingEncoder(64)
    with MemoryGraph(tmp_path / "refused" / "graph.json", embedding_model=other) as copy:
        with pytest.raises(ConfigurationError, match=r"raeburn-hashing-384.*raeburn-hashing-64"):
            import_file(copy, exported, reembed=False)
        assert copy.store.count() == 0
    with MemoryGraph(tmp_path / "moved" / "graph.json", embedding_model=other) as copy:
        result = import_file(copy, exported)
        assert result.reembedded
        assert result.added == 3
        stored = copy.store.load_vectors()
        assert stored.vectors.shape == (3, 64)
        expected = other.encode(["How do I bake bread?"])[0]
        assert np.array_equal(stored.vectors[stored.ids.index("p1")], expected)


def test_reembed_true_encodes_again_with_the_same_encoder(exported: Path, tmp_path: Path) -> None:
    with MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy:
        assert import_file(copy, exported, reembed=True).reembedded


def test_a_bare_store_takes_the_vectors_but_cannot_encode(
    source: MemoryGraph, exported: Path, tmp_path: Path
) -> None:
    with JsonStore.open(str(tmp_path / "bare" / "graph.json")) as store:
        assert import_file(store, exported).added == 3
        assert store.encoder_info() == EncoderInfo("raeburn-hashing-384", 384)
    source.export(tmp_path / "graph-export.json")
    with JsonStore.open(str(tmp_path / "bare2" / "graph.json")) as store:
        with pytest.raises(ConfigurationError, match="needs a MemoryGraph"):
            import_file(store, exported, reembed=True)
        with pytest.raises(ConfigurationError, match="needs a MemoryGraph"):
            import_file(store, tmp_path / "graph-export.json")
        assert store.count() == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda line: "{not json", "not valid JSON"),
        (lambda line: {**line, "vector": "@@not base64@@"}, "not valid base64"),
        (lambda line: {**line, "vector": encode_vector(np.ones(5))}, "5 float32 values"),
        (lambda line: {**line, "vector": encode_vector([np.nan] * 384)}, "NaN"),
        (lambda line: {**line, "surprise": 1}, "unknown key(s) 'surprise'"),
        (lambda line: {**line, "prompt": {"id": "p9", "text": " "}}, "prompt text is empty"),
        (lambda line: {**line, "links": [{"relation": "x"}]}, "each link"),
        (lambda line: [1, 2], "expected a JSON object"),
    ],
)
def test_a_bad_line_is_named_by_file_and_number(
    exported: Path, tmp_path: Path, change: Any, reason: str
) -> None:
    header, first, second, third = _lines(exported)
    bad = _write(tmp_path / "bad.jsonl", [header, first, second, change(third)])
    with (
        MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy,
        pytest.raises(JsonlFormatError) as caught,
    ):
        import_file(copy, bad)
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{bad}:4: ")
    assert reason in str(caught.value)


def test_bytes_that_are_not_utf8_are_named(exported: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(exported.read_bytes() + b"\xff\xfe\n")
    with read_jsonl(bad) as reader, pytest.raises(JsonlFormatError, match=r":5: not UTF-8"):
        list(reader)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"format": "raeburnmemory-jsonl", "version": FORMAT_VERSION + 1}, "format version 2"),
        ({"format": "raeburnmemory-jsonl", "version": "1"}, "not a version number"),
        ({"format": "raeburnmemory-jsonl", "version": 1, "encoder": {"name": "x"}}, "encoder"),
        ({"format": "raeburnmemory-jsonl", "version": 1, "interactions": "3"}, "count"),
        ({"format": "something-else", "version": 1}, "not a raeburnmemory JSON Lines export"),
    ],
)
def test_a_bad_header_is_refused_before_anything_is_written(
    exported: Path, tmp_path: Path, header: dict[str, Any], reason: str
) -> None:
    _, *lines = _lines(exported)
    bad = _write(tmp_path / "bad.jsonl", [header, *lines])
    with pytest.raises(JsonlFormatError, match=":1: ") as caught:
        read_jsonl(bad)
    assert reason in str(caught.value)


def test_a_newer_version_is_refused_by_import_with_nothing_written(
    exported: Path, tmp_path: Path
) -> None:
    header, *lines = _lines(exported)
    bad = _write(tmp_path / "future.jsonl", [{**header, "version": 7}, *lines])
    with MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy:
        with pytest.raises(JsonlFormatError, match=r"format version 7.*upgrade"):
            import_file(copy, bad)
        assert copy.store.count() == 0


def test_a_file_that_is_no_export_is_refused(tmp_path: Path) -> None:
    plain = _write(tmp_path / "plain.jsonl", [{"prompt": {"id": "p", "text": "t"}}])
    with (
        MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy,
        pytest.raises(ExportFormatError, match="neither"),
    ):
        import_file(copy, plain)


def test_a_conflict_names_its_line_or_is_skipped(exported: Path, tmp_path: Path) -> None:
    with MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy:
        copy.add_interaction(
            {"id": "p2", "text": "other"}, {"id": "r2", "text": "x"}, {"id": "a"}, "s"
        )
        with pytest.raises(ConflictError, match=r"memory\.jsonl:3: .*p2"):
            import_file(copy, exported)
        assert copy.store.count() == 1  # the batch holding the conflict wrote nothing
        result = import_file(copy, exported, on_conflict="skip")
        assert (result.added, [where for where, _ in result.conflicts]) == (2, [3])
        assert copy.store.count() == 3


def test_a_link_to_a_prompt_nowhere_names_its_line(exported: Path, tmp_path: Path) -> None:
    header, first, second, third = _lines(exported)
    third["links"] = [{"target": "missing", "relation": "cites"}]
    bad = _write(tmp_path / "bad.jsonl", [header, first, second, third])
    with (
        MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy,
        pytest.raises(NotFoundError, match=r"bad\.jsonl:4: link 'p3' -> 'missing'"),
    ):
        import_file(copy, bad)


def test_the_export_never_writes_over_the_store(source: MemoryGraph) -> None:
    own = source.own_files()[0]
    before = own.read_bytes() if own.is_file() else None
    with pytest.raises(ExportTargetError):
        write_jsonl(source, own)
    with pytest.raises(ExportTargetError):
        write_jsonl(source.store, own)
    assert (own.read_bytes() if own.is_file() else None) == before


def test_bad_arguments_are_refused(exported: Path, tmp_path: Path) -> None:
    with MemoryGraph(tmp_path / "copy" / "graph.json", embedding_model=None) as copy:
        for kwargs in ({"on_conflict": "merge"}, {"batch_size": 0}, {"reembed": "yes"}):
            with pytest.raises(ConfigurationError):
                import_file(copy, exported, **kwargs)
        assert copy.store.count() == 0


def test_vectors_round_trip_their_bits() -> None:
    values = np.array([0.0, -0.0, 1e-45, 3.4028235e38, -1.5], dtype=np.float32)
    back = decode_vector(encode_vector(values), 5)
    assert back.dtype == np.float32
    assert back.tobytes() == values.tobytes()


def test_the_graph_exports_json_lines_and_imports_them_back(tmp_path: Path) -> None:
    with MemoryGraph(tmp_path / "a" / "graph.json", embedding_model=None) as source:
        _fill(source)
        source.export(tmp_path / "memory.jsonl", format="jsonl")
        before = _content(source)
    with MemoryGraph(tmp_path / "b" / "graph.json", embedding_model=None) as target:
        result = target.import_file(tmp_path / "memory.jsonl")
        assert result.added == 3
        assert not result.reembedded
        assert _content(target) == before
        assert target.encoder_info == EncoderInfo("raeburn-hashing-384", 384)


def test_the_graph_refuses_an_export_format_it_does_not_know(tmp_path: Path) -> None:
    with (
        MemoryGraph(tmp_path / "graph.json", embedding_model=None) as memory,
        pytest.raises(ConfigurationError, match="format"),
    ):
        memory.export(tmp_path / "out.csv", format="csv")
    assert not (tmp_path / "out.csv").exists()
