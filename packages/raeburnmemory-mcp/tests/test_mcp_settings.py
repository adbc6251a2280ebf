"""The server's configuration: RAEBURN_* variables, tool descriptions files, generated ids."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.mcp import McpSettings, tool_names
from raeburnmemory.mcp._ids import new_id
from raeburnmemory.mcp.descriptions import load_descriptions


def test_the_api_variables_name_the_store_and_the_mcp_ones_the_server(tmp_path: Path) -> None:
    settings = McpSettings.from_env(
        {
            "RAEBURN_DB_PATH": str(tmp_path / "graph.db"),
            "RAEBURN_STORAGE_BACKEND": "sqlite" if _has_sqlite() else "json",
            "RAEBURN_EMBED_MODEL": "none",
            "RAEBURN_STORE_OPTIONS": '{"fsync": true}',
            "RAEBURN_MCP_READ_ONLY": "yes",
            "RAEBURN_MCP_TOOL_DESCRIPTIONS": str(tmp_path / "tools.toml"),
        }
    )
    assert settings.read_only is True
    assert settings.tool_descriptions == tmp_path / "tools.toml"
    kwargs = settings.memory_kwargs()
    assert kwargs["db_path"] == tmp_path / "graph.db"
    assert kwargs["embedding_model"] == "none"
    assert kwargs["fsync"] is True


def test_nothing_set_means_the_defaults() -> None:
    settings = McpSettings.from_env({})
    assert settings == McpSettings()
    assert settings.memory_kwargs() == {
        "db_path": None,
        "storage_backend": "json",
        "vector_backend": None,
    }


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"RAEBURN_MCP_READ_ONLY": "maybe"}, "RAEBURN_MCP_READ_ONLY='maybe'"),
        ({"RAEBURN_STORE_OPTIONS": "{fsync"}, "RAEBURN_STORE_OPTIONS is not valid JSON"),
        ({"RAEBURN_STORE_OPTIONS": "[1]"}, "RAEBURN_STORE_OPTIONS must be a JSON object"),
        ({"RAEBURN_STORAGE_BACKEND": "nosuch"}, "RAEBURN_STORAGE_BACKEND: "),
        ({"RAEBURN_VECTOR_BACKEND": "nosuch"}, "RAEBURN_VECTOR_BACKEND: "),
        ({"RAEBURN_QDRANT_URL": "localhost:6333"}, "RAEBURN_QDRANT_URL='localhost:6333'"),
    ],
)
def test_an_unusable_value_names_its_variable(variables: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        McpSettings.from_env(variables)
    assert str(refused.value).startswith(named)


def test_descriptions_come_from_json_or_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "tools.json"
    as_json.write_text('{"search_memory": "  Look here first.  "}', "utf-8")
    as_toml = tmp_path / "tools.toml"
    as_toml.write_text('get_memory = "One memory."\nrecord_memory = "Keep it."\n', "utf-8")
    assert load_descriptions(as_json, tool_names()) == {"search_memory": "Look here first."}
    assert load_descriptions(as_toml, tool_names()) == {
        "get_memory": "One memory.",
        "record_memory": "Keep it.",
    }


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("tools.json", "{not json", "not valid JSON"),
        ("tools.toml", "search_memory = ", "not valid TOML"),
        ("tools.json", '["search_memory"]', "must map tool names to descriptions"),
        ("tools.json", '{"search_memory": 3}', "the description of 'search_memory' must be"),
        ("tools.json", '{"search_memory": " "}', "must be non-empty text"),
        ("tools.json", '{"delete_all": "x"}', "no tool named 'delete_all'; the tools are"),
    ],
)
def test_a_bad_descriptions_file_is_named_with_what_is_wrong(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigurationError) as refused:
        load_descriptions(path, tool_names())
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


def test_a_missing_descriptions_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"tools\.json: No such file"):
        load_descriptions(tmp_path / "tools.json", tool_names())


def test_generated_ids_are_uuid7_unique_and_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).version for i in ids} == {7}
    assert {uuid.UUID(i).variant for i in ids} == {uuid.RFC_4122}


def _has_sqlite() -> bool:
    import importlib.util

    return importlib.util.find_spec("raeburnmemory.sqlite") is not None
