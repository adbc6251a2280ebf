"""What MemoryGraph must do on every store and vector backend, processes and crashes included."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.encoders import HashingEncoder
from raeburnmemory.core.errors import (
    ConflictError,
    EmbeddingMismatchError,
    InvalidInteractionError,
    NoEmbeddingsError,
    NotFoundError,
    RaeburnMemoryError,
)
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.testing.data import interaction, interactions
from raeburnmemory.core.testing.expiry_contract import ExpiryGraphContract
from raeburnmemory.core.testing.export_contract import ExportContract
from raeburnmemory.core.testing.graph_listing_contract import GraphListingContract
from raeburnmemory.core.testing.processes import kill_after_acknowledged
from raeburnmemory.core.testing.prompt_only_contract import PromptOnlyGraphContract
from raeburnmemory.core.testing.recording_contract import RecordingContract
from raeburnmemory.core.testing.search_where_contract import SearchWhereContract
from raeburnmemory.core.testing.update_contract import CountingEncoder, UpdateContract

__all__ = ["MemoryGraphContract"]

_T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
#: More interactions than ``batch_add`` encodes at once.
BIG_BATCH = 2100


def _add(graph: MemoryGraph, index: int, **changes: Any) -> str:
    item = interaction(index, **changes)
    return graph.add_interaction(
        {"id": item.prompt_id, "text": item.prompt_text},
        {"id": item.response_id, "text": item.response_text},
        {"id": item.agent_id, "name": item.agent_name},
        item.session_id,
        metadata=dict(item.metadata),
        timestamp=item.timestamp,
    )


def _spawn(
    options: dict[str, Any], prefix: str, count: int, batch: int = 1
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "raeburnmemory.core.testing._worker",
            json.dumps(options),
            prefix,
            "0",
            str(count),
            str(batch),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


class MemoryGraphContract(
    ExportContract,
    RecordingContract,
    GraphListingContract,
    PromptOnlyGraphContract,
    UpdateContract,
    ExpiryGraphContract,
    SearchWhereContract,
):
    """Subclass it and provide ``graph_options``: JSON-serializable ``MemoryGraph`` kwargs.

    The options name one store (``db_path`` and/or backend options) that starts empty; every
    test opens it as often as it needs. The offline encoder is used unless the options say
    otherwise.
    """

    @pytest.fixture
    def graph_options(self) -> dict[str, Any]:
        """MemoryGraph keyword arguments naming an empty store."""
        raise NotImplementedError("provide a graph_options fixture")

    @pytest.fixture
    def options(self, graph_options: dict[str, Any]) -> dict[str, Any]:
        """``graph_options`` with the offline encoder unless another is given."""
        return {"embedding_model": None, **graph_options}

    @pytest.fixture
    def graph(self, options: dict[str, Any]) -> Any:
        """An open MemoryGraph on the store, closed after the test."""
        with MemoryGraph(**options) as graph:
            yield graph

    # -- recording -------------------------------------------------------------------------------

    def test_the_first_example_works(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**options) as graph:
            pid = graph.add_interaction(
                prompt={"id": "p1", "text": "Hello?"},
                response={"id": "r1", "text": "Hi!"},
                agent={"id": "a1", "name": "Greeter"},
                session_id="s1",
            )
            assert pid == "p1"
            graph.export()
        with MemoryGraph(**options) as reopened:
            assert reopened.get_similar_prompts("Hello") == ["p1"]

    def test_an_interaction_round_trips(self, graph: MemoryGraph) -> None:
        graph.add_interaction(
            {"id": "p1", "text": "What is WAL?", "lang": "en"},
            {"id": "r1", "text": "Write-ahead logging.", "tokens": 4},
            {"id": "a1", "name": "Explainer", "model": "small"},
            "s1",
            metadata={"user": "u7", "tags": ["db"]},
            timestamp="2026-03-01T12:00:00Z",
        )
        item = graph.get_interaction("p1")
        assert (item.prompt_text, item.response_id, item.response_text) == (
            "What is WAL?",
            "r1",
            "Write-ahead logging.",
        )
        assert (item.agent_id, item.agent_name, item.session_id) == ("a1", "Explainer", "s1")
        assert item.timestamp == _T0
        assert item.metadata == {"user": "u7", "tags": ["db"]}
        assert item.prompt_attrs == {"lang": "en"}
        assert item.response_attrs == {"tokens": 4}
        assert item.agent_attrs == {"model": "small"}

    def test_the_same_interaction_twice_is_a_no_op(self, graph: MemoryGraph) -> None:
        _add(graph, 1)
        _add(graph, 1)
        assert graph.stats()["interactions"] == 1

    def test_a_changed_interaction_with_a_known_id_is_refused(self, graph: MemoryGraph) -> None:
        _add(graph, 1)
        with pytest.raises(ConflictError, match="p1"):
            _add(graph, 1, prompt_text="something else entirely")
        assert graph.get_interaction("p1").prompt_text == interaction(1).prompt_text
        assert graph.get_similar_prompts("something else entirely", 5) == ["p1"]

    @pytest.mark.parametrize(
        ("prompt", "response", "agent", "session", "match"),
        [
            (
                {"id": "", "text": "empty id"},
                {"id": "r", "text": "x"},
                {"id": "a"},
                "s",
                "prompt id",
            ),
            ({"id": "p", "text": 3}, {"id": "r", "text": "x"}, {"id": "a"}, "s", "prompt text"),
            ({"id": "p", "text": "x"}, 42, {"id": "a"}, "s", "response"),
            ({"id": "p", "text": "x"}, {"id": "r", "text": "x"}, {"id": "a"}, "", "session_id"),
            (
                {"id": "p", "text": "x", "kind": 1},
                {"id": "r", "text": "x"},
                {"id": "a"},
                "s",
                "kind",
            ),
        ],
    )
    def test_bad_input_is_refused_clearly(
        self, graph: MemoryGraph, prompt: Any, response: Any, agent: Any, session: Any, match: str
    ) -> None:
        with pytest.raises(InvalidInteractionError, match=match):
            graph.add_interaction(prompt, response, agent, session)
        with pytest.raises(InvalidInteractionError, match="JSON"):
            graph.add_interaction(
                {"id": "p", "text": "x"},
                {"id": "r", "text": "x"},
                {"id": "a"},
                "s",
                metadata={"when": object()},
            )
        assert graph.stats()["interactions"] == 0

    def test_batch_add_encodes_once_per_chunk(self, options: dict[str, Any]) -> None:
        encoder = CountingEncoder()
        with MemoryGraph(**{**options, "embedding_model": encoder}) as graph:
            added = graph.batch_add(
                {
                    "prompt": {"id": item.prompt_id, "text": item.prompt_text},
                    "response": {"id": item.response_id, "text": item.response_text},
                    "agent": {"id": item.agent_id},
                    "session_id": item.session_id,
                    "timestamp": item.timestamp,
                }
                for item in interactions(300)
            )
            assert added == [f"p{i}" for i in range(300)]
            assert encoder.calls == 1
            assert graph.batch_add(interactions(310)) == [f"p{i}" for i in range(300, 310)]
            assert graph.stats()["interactions"] == 310

    def test_a_conflicting_batch_writes_nothing(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(3))
        batch = [*interactions(3, 10), interaction(1, prompt_text="changed")]
        with pytest.raises(ConflictError):
            graph.batch_add(batch)
        assert graph.stats()["interactions"] == 3

    @pytest.mark.slow
    def test_a_batch_larger_than_a_chunk_is_all_or_nothing(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**options) as graph:
            graph.batch_add(interactions(2))
            big = interactions(BIG_BATCH, start=10)
            refused: list[tuple[list[Any], type[Exception]]] = [
                ([*big, interaction(1, prompt_text="changed")], ConflictError),
                ([*big, interaction(11, prompt_text="changed")], ConflictError),
                ([*big, interaction(9000, response_id="r-p12")], ConflictError),
                ([*big, {"prompt": {"id": "p9000"}}], InvalidInteractionError),
            ]
            for batch, error in refused:
                with pytest.raises(error):
                    graph.batch_add(batch)
                assert graph.stats()["interactions"] == 2
                assert graph.get_similar_prompts(big[-1].prompt_text, 1) != [big[-1].prompt_id]
        with MemoryGraph(**options) as reopened:
            assert reopened.stats()["interactions"] == 2
            again = [*big, *interactions(2), interaction(10)]  # same content again: skipped
            assert reopened.batch_add(again) == [item.prompt_id for item in big]
            assert reopened.batch_add(again) == []
            assert reopened.get_similar_prompts(big[-1].prompt_text, 1) == [big[-1].prompt_id]
        with MemoryGraph(**options) as reopened:
            assert reopened.stats()["interactions"] == BIG_BATCH + 2

    # -- reading ---------------------------------------------------------------------------------

    def test_sessions_read_in_order(self, graph: MemoryGraph) -> None:
        for index, minutes in ((1, 5), (2, 1), (3, 3)):
            _add(graph, index, session_id="s", timestamp=_T0 + timedelta(minutes=minutes))
        assert [item.prompt_id for item in graph.get_session("s")] == ["p2", "p3", "p1"]
        assert graph.sessions() == ["s"]
        with pytest.raises(NotFoundError):
            graph.get_session("nope")
        with pytest.raises(NotFoundError):
            graph.get_interaction("nope")
        data = graph.node_link_data()
        follows = [
            (e["source"], e["target"]) for e in data["edges"] if e["relation"] == "followed_by"
        ]
        assert follows == [("prompt:p2", "prompt:p3"), ("prompt:p3", "prompt:p1")]

    def test_the_graph_has_every_node_and_edge(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(6, sessions=2, agents=2))
        graph.link_prompts("p0", "p5", "see_also")
        g = graph.graph
        assert g.has_edge("prompt:p0", "response:r-p0")
        assert g.has_edge("response:r-p0", "agent:agent-0")
        assert g.has_edge("prompt:p0", "session:session-0")
        assert g.has_edge("prompt:p0", "prompt:p2")
        assert g.has_edge("prompt:p0", "prompt:p5")
        assert g.number_of_nodes() == 6 + 6 + 2 + 2
        assert [a.id for a in graph.agents()] == ["agent-0", "agent-1"]
        with pytest.raises(NotFoundError):
            graph.link_prompts("p0", "missing")

    def test_export_writes_node_link_json(self, graph: MemoryGraph, tmp_path: Path) -> None:
        graph.batch_add(interactions(4))
        target = tmp_path / "out" / "graph-export.json"
        graph.export(target)
        data = json.loads(target.read_text())
        assert data == graph.node_link_data()
        assert "".join(graph.iter_node_link_json()) == json.dumps(data)

    # -- searching -------------------------------------------------------------------------------

    def test_lexical_neighbours_are_found(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(40))
        hits = graph.search("bake sourdough bread", 3)
        assert len(hits) == 3
        assert all("sourdough" in hit.prompt_text for hit in hits)
        assert hits[0].score >= hits[1].score >= hits[2].score
        assert (hits[0].response_text or "").startswith("Here is how to bake")

    def test_search_nowait_gives_nothing_or_what_search_gives(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(40))
        expected = graph.search("bake sourdough bread", 3, session_id="session-1")
        for _ in range(2):  # the first call may build or catch up; the answer never differs
            found = graph.search_nowait("bake sourdough bread", 3, session_id="session-1")
            assert found is None or found == expected

    def test_an_empty_store_says_it_has_no_embeddings(self, graph: MemoryGraph) -> None:
        with pytest.raises(NoEmbeddingsError):
            graph.search("anything")

    def test_filters_return_top_k_when_they_exist(self, graph: MemoryGraph) -> None:
        graph.batch_add(interactions(200, sessions=50, agents=7))
        hits = graph.search("reset a forgotten password", 4, session_id="session-3")
        assert len(hits) == 4
        assert {hit.session_id for hit in hits} == {"session-3"}
        hits = graph.search("password", 5, agent_id="agent-2", session_id="session-9")
        assert {(h.agent_id, h.session_id) for h in hits} == {("agent-2", "session-9")}
        assert len(hits) == len([i for i in range(200) if i % 7 == 2 and i % 50 == 9])
        start = interaction(0).timestamp
        window = graph.search(
            "hiking", 10, since=start + timedelta(seconds=20), until=start + timedelta(seconds=29)
        )
        assert sorted(int(h.id[1:]) for h in window) == list(range(20, 30))
        assert graph.search("hiking", 3, min_score=1.1) == []

    def test_a_deleted_prompt_is_never_found_again(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**options) as graph:
            graph.batch_add(interactions(30))
            graph.delete_interaction("p1")
            assert "p1" not in graph.get_similar_prompts(interaction(1).prompt_text, 30)
            removed = graph.delete_session("session-2")
            assert sorted(removed) == sorted(f"p{i}" for i in range(2, 30, 4))
            with pytest.raises(NotFoundError):
                graph.delete_interaction("p1")
        with MemoryGraph(**options) as reopened:
            found = set(reopened.get_similar_prompts(interaction(2).prompt_text, 30))
            assert not found & {"p1", *removed}
            assert len(found) == 30 - 1 - len(removed)

    def test_another_encoder_is_refused_until_reindexed(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**options) as graph:
            graph.batch_add(interactions(5))
        small = {**options, "embedding_model": HashingEncoder(dim=64)}
        with pytest.raises(EmbeddingMismatchError, match="raeburn-hashing-64"):
            MemoryGraph(**small)
        progress: list[tuple[int, int]] = []
        with MemoryGraph(**small, reindex=True) as graph:
            assert graph.stats()["dim"] == 64
            assert graph.reindex(lambda done, total: progress.append((done, total))) == 5
            assert graph.get_similar_prompts(interaction(3).prompt_text, 1) == ["p3"]
        assert progress[-1] == (5, 5)

    # -- many writers ----------------------------------------------------------------------------

    def test_two_graphs_on_one_store_see_each_other(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**options) as first, MemoryGraph(**options) as second:
            _add(first, 1)
            assert second.get_similar_prompts(interaction(1).prompt_text, 1) == ["p1"]
            _add(second, 2)
            second.delete_interaction("p1")
            assert first.get_similar_prompts(interaction(1).prompt_text, 5) == ["p2"]
            assert first.stats()["interactions"] == 1

    def test_threads_and_tasks_lose_nothing(self, graph: MemoryGraph) -> None:
        def worker(offset: int) -> None:
            for i in range(offset, offset + 20):
                _add(graph, i)

        threads = [threading.Thread(target=worker, args=(n * 100,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        async def tasks() -> list[str]:
            return list(
                await asyncio.gather(
                    *(
                        graph.add_interaction_async(
                            {"id": f"q{i}", "text": f"async question {i}"},
                            {"id": f"rq{i}", "text": "answer"},
                            {"id": "a"},
                            "async",
                        )
                        for i in range(10)
                    )
                )
            )

        assert asyncio.run(tasks()) == [f"q{i}" for i in range(10)]
        assert graph.stats()["interactions"] == 90
        assert asyncio.run(graph.get_similar_prompts_async("async question 3", 1)) == ["q3"]

    @pytest.mark.slow
    def test_processes_writing_at_once_lose_nothing(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**options) as graph:
            _add(graph, 999)  # the store exists before the writers start
            writers = [_spawn(options, f"w{n}-", 25) for n in range(3)]
            for writer in writers:
                _out, err = writer.communicate(timeout=120)
                assert writer.returncode == 0, err
            expected = {f"w{n}-{i}" for n in range(3) for i in range(25)}
            assert graph.stats()["interactions"] == 76
            for pid in ("w0-0", "w1-24", "w2-13"):
                assert graph.get_interaction(pid).prompt_id in expected
            # The three writers stored the same texts: all three copies are found first.
            found = graph.get_similar_prompts(interaction(13).prompt_text, 3)
            assert sorted(found) == ["w0-13", "w1-13", "w2-13"]

    @pytest.mark.slow
    def test_a_killed_writer_loses_no_acknowledged_write(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**options) as graph:
            _add(graph, 999)
        acknowledged = kill_after_acknowledged(_spawn(options, "k", 100_000, batch=7), 300)
        assert len(acknowledged) >= 300
        with MemoryGraph(**options) as reopened:
            stored = reopened.stats()["interactions"] - 1
            assert stored >= len(acknowledged)
            for pid in acknowledged[:: max(1, len(acknowledged) // 20)] + acknowledged[-3:]:
                assert reopened.get_interaction(pid).prompt_id == pid
            _add(reopened, 1000)
            assert reopened.get_similar_prompts(interaction(1000).prompt_text, 1) == ["p1000"]

    # -- lifecycle -------------------------------------------------------------------------------

    def test_close_is_idempotent_and_final(self, options: dict[str, Any]) -> None:
        graph = MemoryGraph(**options)
        _add(graph, 1)
        graph.close()
        graph.close()
        with pytest.raises(RaeburnMemoryError):
            graph.get_interaction("p1")
        again = MemoryGraph(**options)
        assert again.get_interaction("p1").prompt_id == "p1"
        del again
        gc.collect()
        with MemoryGraph(**options) as third:
            assert isinstance(third.get_interaction("p1"), Interaction)
