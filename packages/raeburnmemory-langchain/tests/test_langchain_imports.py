"""Every module of raeburnmemory-langchain imports and exports what it lists."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "raeburnmemory.langchain",
    "raeburnmemory.langchain._records",
    "raeburnmemory.langchain.chat_history",
    "raeburnmemory.langchain.encoder",
    "raeburnmemory.langchain.vectorstore",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_exports_what_it_lists(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"
