"""Every module of raeburnmemory-langchain imports and exports what it lists."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MODULES = [
    "raeburnmemory.langchain",
    "raeburnmemory.langchain._records",
    "raeburnmemory.langchain.chat_history",
    "raeburnmemory.langchain._store_layout",
    "raeburnmemory.langchain.encoder",
    "raeburnmemory.langchain.errors",
    "raeburnmemory.langchain.store",
    "raeburnmemory.langchain.testing",
    "raeburnmemory.langchain.vectorstore",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_exports_what_it_lists(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"


def test_the_vector_store_does_not_import_langgraph() -> None:
    code = (
        "import sys, raeburnmemory.langchain as m; m.RaeburnMemoryVectorStore; "
        "print(any(name.startswith('langgraph') for name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_store_without_langgraph_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['langgraph'] = None\n"
        "import raeburnmemory.langchain as m\n"
        "try:\n    m.RaeburnMemoryStore\n"
        "except m.MissingExtraError as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'raeburnmemory-langchain[langgraph]'" in done.stdout


def test_unknown_names_are_attribute_errors() -> None:
    module = importlib.import_module("raeburnmemory.langchain")
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018
