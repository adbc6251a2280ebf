"""What ``add_interaction`` and ``batch_add`` accept on every store: texts, dicts without ids.

:class:`MemoryGraphContract` includes these tests; they use its ``graph`` fixture.
"""

from __future__ import annotations

from typing import Any

import pytest

from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInteractionError,
    NotFoundError,
)
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.records import DEFAULT_AGENT_ID, DEFAULT_SESSION_ID
from raeburnmemory.core.testing.update_contract import reader_process

__all__ = ["RecordingContract"]


class RecordingContract:
    """Ids, agents and sessions the caller leaves out are made up the same way everywhere."""

    def test_plain_texts_get_generated_ids_and_defaults(self, graph: MemoryGraph) -> None:
        first = graph.add_interaction("How long do I knead dough?", "About ten minutes.")
        second = graph.add_interaction({"text": "And proof it?"}, {"text": "An hour."})
        assert first != second
        assert sorted([first, second]) == [first, second], "generated ids sort in time order"
        stored = graph.get_interaction(first)
        assert stored.prompt_text == "How long do I knead dough?"
        assert stored.response_text == "About ten minutes."
        assert stored.response_id not in (first, second)
        assert stored.agent_id == DEFAULT_AGENT_ID
        assert stored.session_id == DEFAULT_SESSION_ID
        assert [item.prompt_id for item in graph.get_session(DEFAULT_SESSION_ID)] == [
            first,
            second,
        ]
        assert graph.get_similar_prompts("knead dough", 1) == [first]

    def test_an_agent_may_be_given_by_its_id(self, graph: MemoryGraph) -> None:
        pid = graph.add_interaction("hello", "hi", "helper", "chat-1")
        stored = graph.get_interaction(pid)
        assert (stored.agent_id, stored.session_id) == ("helper", "chat-1")

    def test_batch_items_take_the_same_shapes(self, graph: MemoryGraph) -> None:
        added = graph.batch_add(
            [
                {"prompt": "first note", "response": "ok"},
                {"prompt": {"text": "second", "lang": "en"}, "response": {"text": "fine"}},
                {"prompt": {"id": "p-given", "text": "third"}, "response": "yes", "agent": "a9"},
            ]
        )
        assert len(added) == 3
        assert added[2] == "p-given"
        second = graph.get_interaction(added[1])
        assert second.prompt_attrs == {"lang": "en"}
        assert graph.get_interaction("p-given").agent_id == "a9"

    def test_a_prompt_that_is_not_text_is_refused_clearly(self, graph: MemoryGraph) -> None:
        for bad in (42, {"id": "p1"}, {"text": ""}):
            with pytest.raises(InvalidInteractionError, match="prompt"):
                graph.add_interaction(bad, "r")  # type: ignore[arg-type]
        assert graph.stats()["interactions"] == 0

    def test_skip_leaves_conflicting_items_out(self, graph: MemoryGraph) -> None:
        graph.add_interaction({"id": "p1", "text": "the first words"}, {"id": "r1", "text": "ok"})
        with pytest.raises(ConflictError):
            graph.add_interaction({"id": "p1", "text": "other words"}, "no")
        again = graph.add_interaction({"id": "p1", "text": "other words"}, "no", on_conflict="skip")
        assert again == "p1"
        assert graph.get_interaction("p1").prompt_text == "the first words"
        added = graph.batch_add(
            [
                {"prompt": {"id": "p1", "text": "changed again"}, "response": "x"},
                {"prompt": {"id": "p2", "text": "a new one"}, "response": "y"},
            ],
            on_conflict="skip",
        )
        assert added == ["p2"]
        assert graph.get_similar_prompts("changed again other words", 5).count("p1") == 1
        assert graph.stats()["interactions"] == 2

    def test_an_unknown_conflict_rule_is_refused(self, graph: MemoryGraph) -> None:
        with pytest.raises(ConfigurationError, match="on_conflict"):
            graph.add_interaction("words", "reply", on_conflict="ignore")
        with pytest.raises(ConfigurationError, match="on_conflict"):
            graph.batch_add([], on_conflict="overwrite")
        assert graph.stats()["interactions"] == 0

    def test_an_agent_keeps_its_name_when_a_later_record_omits_it(self, graph: MemoryGraph) -> None:
        graph.add_interaction("first", "one", {"id": "bot", "name": "Helper", "tier": 2})
        graph.add_interaction("second", "two", "bot")
        assert [(a.id, a.name, dict(a.attrs)) for a in graph.agents()] == [
            ("bot", "Helper", {"tier": 2})
        ]
        nodes = {node["id"]: node for node in graph.node_link_data()["nodes"]}
        assert nodes["agent:bot"]["name"] == "Helper"
        assert nodes["agent:bot"]["tier"] == 2

    def test_replace_puts_the_new_content_in_place(self, graph: MemoryGraph) -> None:
        graph.add_interaction({"id": "p1", "text": "sourdough starter feeding"}, "daily")
        graph.add_interaction({"id": "p2", "text": "espresso grind size"}, "fine")
        graph.link_prompts("p1", "p2", "see_also")
        graph.add_interaction(
            {"id": "p1", "text": "alpine hiking routes in autumn"},
            {"id": "r-new", "text": "take the ridge path"},
            on_conflict="replace",
        )
        stored = graph.get_interaction("p1")
        assert stored.prompt_text == "alpine hiking routes in autumn"
        assert stored.response_id == "r-new"
        [best] = graph.search("alpine hiking routes in autumn", 1)
        assert (best.id, round(best.score, 4)) == ("p1", 1.0)
        old = {hit.id: hit.score for hit in graph.search("sourdough starter feeding", 2)}
        assert old.get("p1", 0.0) < 0.99, "the old vector is gone from the index"
        assert [(link.source, link.target) for link in graph.store.links()] == [("p1", "p2")]
        assert graph.stats()["interactions"] == 2

    def test_update_changes_parts_and_every_index_follows(self, graph: MemoryGraph) -> None:
        pid = graph.add_interaction("how do I reset my password", "use the link", "helper")
        graph.add_interaction("fixing a leaking kitchen tap", "replace the washer")
        updated = graph.update_interaction(pid, response="ask the admin", metadata={"v": 2})
        assert updated.prompt_text == "how do I reset my password"
        assert (updated.response_text, dict(updated.metadata)) == ("ask the admin", {"v": 2})
        assert graph.get_interaction(pid) == updated
        graph.update_interaction(pid, prompt_text="planning a week in the alps")
        stored = graph.get_interaction(pid)
        assert stored.prompt_text == "planning a week in the alps"
        assert stored.response_text == "ask the admin"
        assert stored.agent_id == "helper"
        assert graph.get_similar_prompts("week in the alps planning", 1) == [pid]
        assert all(hit.score < 0.99 for hit in graph.search("how do I reset my password", 2))
        assert [hit.id for hit in graph.search("password", 2, mode="keyword")] == []
        with pytest.raises(NotFoundError):
            graph.update_interaction("missing", response="x")
        with pytest.raises(InvalidInteractionError):
            graph.update_interaction(pid, prompt_text="   ")
        assert graph.get_interaction(pid) == stored

    @pytest.mark.slow
    def test_another_process_searches_the_updated_text(self, options: dict[str, Any]) -> None:
        if options.get("vector_backend") == "qdrant" and "qdrant_url" not in options:
            pytest.skip("a local Qdrant folder serves one process; a server runs this")
        with MemoryGraph(**options) as graph, reader_process(options) as ask:
            pid = graph.add_interaction("bake sourdough bread at home", "feed the starter")
            graph.add_interaction("fix a leaking kitchen tap", "replace the washer")
            assert ask("vector", "bake sourdough bread at home")[0][0] == pid  # index built
            graph.update_interaction(pid, prompt_text="plan a week of hiking in the alps")
            [best, *_] = ask("vector", "plan a week of hiking in the alps")
            assert best[:2] == [pid, "plan a week of hiking in the alps"]
            assert round(best[2], 4) == 1.0
            assert all(hit[2] < 0.99 for hit in ask("vector", "bake sourdough bread at home"))
            if graph.store.supports_keyword_search:
                assert [hit[0] for hit in ask("keyword", "hiking alps")] == [pid]
