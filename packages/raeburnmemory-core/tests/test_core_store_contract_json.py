"""The JSON store passes the store contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.core.json_store import JsonStore
from raeburnmemory.core.store import Store
from raeburnmemory.core.testing.store_contract import StoreContract

_NOT_ON_CHECKS_YET = pytest.mark.xfail(
    strict=True,
    reason="the JSON store does not use raeburnmemory.core.checks yet: it words a wrong row count "
    "otherwise, accepts vectors before an encoder is recorded and checks an empty batch's vectors",
)


class _JsonStoreRules(StoreContract):
    """The contract's vector rules the JSON store does not follow yet."""

    @_NOT_ON_CHECKS_YET
    def test_vectors_that_do_not_fit_are_refused(self, store: Store) -> None:
        super().test_vectors_that_do_not_fit_are_refused(store)

    @_NOT_ON_CHECKS_YET
    def test_vectors_before_an_encoder_are_refused(self, opened: Callable[..., Any]) -> None:
        super().test_vectors_before_an_encoder_are_refused(opened)

    @_NOT_ON_CHECKS_YET
    def test_an_empty_add_returns_before_any_check(self, opened: Callable[..., Any]) -> None:
        super().test_an_empty_add_returns_before_any_check(opened)


class TestJsonStoreContract(_JsonStoreRules):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., Store]:
        path = tmp_path / "mem" / "graph.json"
        return lambda create=True: JsonStore.open(str(path), create=create)


class TestJsonStoreContractFsync(_JsonStoreRules):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., Store]:
        path = tmp_path / "graph.json"
        options = {"fsync": True, "lock_timeout": 5}
        return lambda create=True: JsonStore.open(str(path), create=create, options=options)
