"""The contract's cases about expiry: ``expires_at``, a graph's ``ttl`` and ``purge_expired``.

:class:`ExpiryStoreContract` is mixed into
:class:`~raeburnmemory.core.testing.store_contract.StoreContract` and
:class:`ExpiryGraphContract` into
:class:`~raeburnmemory.core.testing.graph_contract.MemoryGraphContract`, so every backend runs
them. Expired records are made with times in the past: nothing sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.errors import ConfigurationError, InvalidInteractionError, NotFoundError
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import utc_now
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing._store_rules import DIM
from raeburnmemory.core.testing.data import interaction, unit_vectors

__all__ = ["ExpiryGraphContract", "ExpiryStoreContract"]

_PAST = datetime(2021, 6, 1, 12, 0, tzinfo=timezone.utc)
_FUTURE = datetime(2999, 1, 1, tzinfo=timezone.utc)


class ExpiryStoreContract:
    """A store keeps ``expires_at`` and tells which interactions have expired."""

    def test_expired_ids_names_what_has_expired(
        self, store: Store, opened: Callable[..., Store]
    ) -> None:
        items = [
            interaction(0, expires_at=_PAST),
            interaction(1, expires_at=_FUTURE),
            interaction(2),
            interaction(3, expires_at=_PAST + timedelta(days=1)),
        ]
        store.add(items, unit_vectors(4, DIM))
        assert store.get("p0") == items[0]
        assert store.get("p1") == items[1]
        assert store.expired_ids(utc_now()) == ["p0", "p3"]
        assert store.expired_ids(_PAST) == ["p0"]
        assert store.expired_ids(_PAST - timedelta(seconds=1)) == []
        store.compact()
        store.close()
        again = opened(create=False)
        assert again.expired_ids(utc_now()) == ["p0", "p3"]
        assert [again.get(f"p{n}") for n in range(4)] == items
        assert again.delete(["p0"]) == ["p0"]
        assert again.expired_ids(utc_now()) == ["p3"]


class ExpiryGraphContract:
    """No read returns an expired interaction; ``purge_expired`` and ``export`` delete them."""

    @staticmethod
    def _fill(graph: MemoryGraph) -> dict[str, str]:
        ids = {
            "gone": graph.add_interaction(
                "bake sourdough bread at home",
                "feed the starter",
                agent="old-agent",
                session_id="old",
                expires_at=_PAST,
                metadata={"topic": "bread"},
            ),
            "stale": graph.add_interaction(
                "bake sourdough bread quickly",
                session_id="kitchen",
                expires_at=_PAST.isoformat(),
                metadata={"topic": "bread"},
            ),
            "live": graph.add_interaction(
                "bake sourdough bread with rye",
                "use more water",
                session_id="kitchen",
                expires_at=_FUTURE.timestamp(),
                metadata={"topic": "bread"},
            ),
        }
        ids["plain"] = graph.add_interaction("fix a leaking kitchen tap", session_id="kitchen")
        ids["note"] = graph.add_interaction("sourdough starter notes", session_id="kitchen")
        graph.link_prompts(ids["gone"], ids["live"], "see_also")
        graph.link_prompts(ids["plain"], ids["live"], "see_also")
        return ids

    def test_an_expired_interaction_is_returned_by_no_read(
        self, graph: MemoryGraph, tmp_path: Path
    ) -> None:
        ids = self._fill(graph)
        hidden = {ids["gone"], ids["stale"]}
        live = [ids["live"], ids["plain"], ids["note"]]
        for pid in hidden:
            with pytest.raises(NotFoundError):
                graph.get_interaction(pid)
        assert graph.get_interaction(ids["live"]).expires_at == _FUTURE
        modes = ["vector", *(["keyword", "hybrid"] if graph.store.supports_keyword_search else [])]
        for mode in modes:
            found = [hit.id for hit in graph.search("bake sourdough bread", 3, mode=mode)]
            assert not hidden & set(found), mode
        hits = graph.search("bake sourdough bread at home", 3)
        assert len(hits) == 3, "top_k hits still come back when that many are live"
        assert set(graph.get_similar_prompts("bake sourdough bread", 5)) == set(live)
        assert [item.prompt_id for item in graph.interactions().items] == live
        pages, cursor = [], None
        while True:
            page = graph.interactions(limit=1, cursor=cursor)
            pages += [item.prompt_id for item in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert pages == live
        assert graph.count() == 3
        assert graph.count(where={"topic": "bread"}) == 1
        assert graph.count(session_id="kitchen") == 3
        assert graph.sessions() == ["kitchen"]
        with pytest.raises(NotFoundError):
            graph.get_session("old")
        assert [item.prompt_id for item in graph.get_session("kitchen")] == live
        assert "old-agent" not in {agent.id for agent in graph.agents()}
        stats = graph.stats()
        assert (stats["interactions"], stats["sessions"], stats["links"]) == (3, 1, 1)
        keys = {node["id"] for node in graph.node_link_data()["nodes"]}
        assert not any(key.split(":", 1)[1] in hidden for key in keys if key[:7] == "prompt:")
        lines = tmp_path / "export.jsonl"
        graph.export(lines, format="jsonl")
        rows = [json.loads(line) for line in lines.read_text().splitlines()]
        assert rows[0]["interactions"] == 3
        assert [row["prompt"]["id"] for row in rows[1:]] == live
        assert rows[1]["expires_at"] == _FUTURE.isoformat()

    def test_purge_deletes_expired_interactions_for_good(
        self, options: dict[str, Any], graph: MemoryGraph
    ) -> None:
        ids = self._fill(graph)
        assert graph.store.count() == 5
        assert graph.purge_expired() == 2
        assert graph.purge_expired() == 0
        assert graph.store.count() == 3
        assert graph.store.get(ids["gone"]) is None
        assert ids["gone"] not in graph.store.vectors_of([ids["gone"], ids["live"]]).ids
        assert [(link.source, link.target) for link in graph.store.links()] == [
            (ids["plain"], ids["live"])
        ]
        with MemoryGraph(**options) as reopened:
            assert reopened.store.count() == 3
            assert reopened.count() == 3

    def test_export_deletes_expired_interactions(self, graph: MemoryGraph) -> None:
        self._fill(graph)
        graph.export()
        assert graph.store.count() == 3
        assert graph.store.expired_ids(utc_now()) == []

    def test_ttl_sets_expiry_from_when_it_is_recorded(self, options: dict[str, Any]) -> None:
        with MemoryGraph(**{**options, "ttl": 3600}) as graph:
            before = utc_now()
            pid = graph.add_interaction("remember this for an hour")
            after = utc_now()
            [batch] = graph.batch_add([{"prompt": "this too"}])
            given = graph.add_interaction("and this for ever after", expires_at=_FUTURE)
            expires = graph.get_interaction(pid).expires_at
            assert expires is not None
            assert before + timedelta(hours=1) <= expires <= after + timedelta(hours=1)
            assert graph.get_interaction(batch).expires_at is not None
            assert graph.get_interaction(given).expires_at == _FUTURE
        with MemoryGraph(**{**options, "ttl": timedelta(days=1)}) as graph:
            assert graph.count() == 3
        for bad in (0, -5, "an hour", True):
            with pytest.raises(ConfigurationError, match="ttl"):
                MemoryGraph(**{**options, "ttl": bad})

    def test_a_bad_expiry_is_refused_and_nothing_written(self, graph: MemoryGraph) -> None:
        with pytest.raises(InvalidInteractionError, match="expires_at"):
            graph.add_interaction("a note", expires_at="next tuesday")
        with pytest.raises(InvalidInteractionError, match="item 1: expires_at"):
            graph.batch_add([{"prompt": "fine"}, {"prompt": "bad", "expires_at": [1]}])
        assert graph.store.count() == 0

    def test_update_keeps_the_expiry(self, graph: MemoryGraph) -> None:
        pid = graph.add_interaction("a note that will go", expires_at=_FUTURE)
        graph.update_interaction(pid, response="noted", metadata={"k": 1})
        assert graph.get_interaction(pid).expires_at == _FUTURE
