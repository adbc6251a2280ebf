"""Every module of raeburnmemory-langchain imports and exports what it lists; LangGraph is
imported only for the LangGraph store."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from raeburnmemory.core.testing.imports import check_exports, loaded_by, modules_of


@pytest.mark.parametrize("name", modules_of("raeburnmemory.langchain", private=True))
def test_module_imports_and_exports_what_it_lists(name: str) -> None:
    check_exports(name)


def test_the_vector_store_and_chat_history_do_not_import_langgraph() -> None:
    statement = (
        "import raeburnmemory.langchain as m\n"
        "m.RaeburnMemoryVectorStore, m.RaeburnMemoryChatMessageHistory"
    )
    assert loaded_by(statement, ["langgraph", "torch", "sentence_transformers"]) == []


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
