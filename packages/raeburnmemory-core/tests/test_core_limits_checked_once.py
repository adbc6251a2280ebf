"""Records made by ``batch_add`` and ``add_interaction`` are checked once, not again by the store;
every other record a store receives is checked as before."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raeburnmemory.core import limits, records
from raeburnmemory.core.errors import InvalidInteractionError
from raeburnmemory.core.limits import _checked_records, check_id, check_records, id_problem
from raeburnmemory.core.memory import MemoryGraph
from raeburnmemory.core.model import Interaction
from raeburnmemory.core.testing.data import interaction


def _bad() -> Interaction:
    """An interaction built by hand that breaks a rule (a control character in its session)."""
    return dataclasses.replace(interaction(0), session_id="s\n")


def test_check_records_skips_only_the_very_objects_marked_checked() -> None:
    bad = _bad()
    with _checked_records([bad]):
        check_records([bad])  # taken as checked: this very object was
        with pytest.raises(InvalidInteractionError, match="session_id"):
            check_records([dataclasses.replace(bad)])  # an equal record, another object
    with pytest.raises(InvalidInteractionError, match="session_id"):
        check_records([bad])  # after the block


def test_records_marked_in_one_thread_are_checked_in_another() -> None:
    bad = _bad()
    errors: list[Exception] = []

    def write() -> None:
        try:
            check_records([bad])
        except InvalidInteractionError as exc:
            errors.append(exc)

    with _checked_records([bad]):
        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
    assert len(errors) == 1


def test_a_store_still_checks_what_it_is_given_directly(tmp_path: Path) -> None:
    with (
        MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory,
        pytest.raises(InvalidInteractionError, match="session_id"),
    ):
        memory.store.add([_bad()], None)


def test_batch_add_checks_each_record_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store used to check every record ``batch_add`` had just made and checked again."""
    real = limits.check_interaction
    checked: list[str] = []

    def counting(item: Interaction) -> Interaction:
        checked.append(item.prompt_id)
        return real(item)

    monkeypatch.setattr(limits, "check_interaction", counting)  # what stores call
    monkeypatch.setattr(records, "check_interaction", counting)  # what batch_add calls
    given_items: list[Any] = [
        {"prompt": {"id": "p1", "text": "one"}, "response": "a"},
        {"prompt": {"id": "p2", "text": "two"}},
        interaction(3),
    ]
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory:
        memory.batch_add(given_items)
        memory.add_interaction({"id": "p4", "text": "four"})
        assert memory.store.count() == 4
    # the Interaction given as it is is checked once, by batch_add; the dicts are checked as
    # they are made, not by the store
    assert checked == ["p3"]


def test_batch_add_still_refuses_a_bad_interaction_given_as_one(tmp_path: Path) -> None:
    with MemoryGraph(tmp_path / "g.json", embedding_model=None) as memory:
        with pytest.raises(InvalidInteractionError, match=r"item 1: .*session_id"):
            memory.batch_add([interaction(0), _bad()])
        assert memory.store.count() == 0


@given(st.one_of(st.text(max_size=40), st.text(min_size=1020, max_size=1030), st.none()))
def test_check_id_accepts_exactly_what_id_problem_accepts(value: str | None) -> None:
    """The quick path for printable ids agrees with the rule."""
    if id_problem(value) is None:
        assert check_id(value, "x") == value
    else:
        with pytest.raises(InvalidInteractionError):
            check_id(value, "x")
