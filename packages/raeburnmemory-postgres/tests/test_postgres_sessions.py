"""The PostgreSQL store groups the session overview in SQL, in the order Python compares ids."""

from __future__ import annotations

import pytest

from raeburnmemory.core.testing import unit_vectors
from raeburnmemory.core.testing.graph_sessions_contract import check_a_store_groups_sessions
from raeburnmemory.postgres import PostgresStore


def test_summaries_are_grouped_in_sql(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_a_store_groups_sessions(store, unit_vectors(40), monkeypatch)
