"""The contract suites every raeburnmemory backend runs against itself, and shared test helpers.

A backend's tests subclass a contract and provide one fixture::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store_factory(self, tmp_path):
            return lambda create=True: MyStore.open(str(tmp_path / "db"), create=create)

``StoreContract`` needs ``store_factory``, ``VectorIndexContract`` needs ``index_factory`` and
``MemoryGraphContract`` needs ``graph_options`` (JSON-serializable ``MemoryGraph`` arguments, so
the same store can be opened from subprocesses). Importing this package needs pytest.
"""

from __future__ import annotations

from typing import Any

from raeburnmemory.core.testing.data import interaction, interactions, unit_vectors
from raeburnmemory.core.testing.graph_contract import MemoryGraphContract
from raeburnmemory.core.testing.processes import (
    assert_permission_error,
    file_permissions_apply,
    kill_after_acknowledged,
    modes_restored,
    probe_held_to_permissions,
    require_file_permissions,
    store_for_permissions,
    without_permission_override,
)
from raeburnmemory.core.testing.vector_contract import VectorIndexContract

__all__ = [
    "MemoryGraphContract",
    "StoreContract",
    "VectorIndexContract",
    "assert_permission_error",
    "file_permissions_apply",
    "interaction",
    "interactions",
    "kill_after_acknowledged",
    "modes_restored",
    "probe_held_to_permissions",
    "require_file_permissions",
    "store_for_permissions",
    "unit_vectors",
    "without_permission_override",
]


def __getattr__(name: str) -> Any:
    if name == "StoreContract":
        from raeburnmemory.core.testing.store_contract import StoreContract

        return StoreContract
    raise AttributeError(name)
