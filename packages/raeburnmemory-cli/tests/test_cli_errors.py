"""Every failure is one line on standard error, a non-zero exit (2 for usage), no traceback."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

READ_COMMANDS = [
    ["show", "p1"],
    ["history"],
    ["history", "--session", "s1"],
    ["similar", "--text", "hello"],
    ["stats"],
    ["export", "--output", "out.json"],
    ["delete", "--prompt", "p1", "--yes"],
    ["reindex"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda args: args[0])
def test_a_read_command_on_a_missing_store(cli: Any, db: Path, args: list[str]) -> None:
    run = cli("--db", db, *args)
    run.assert_error(1, str(db))
    assert not db.parent.exists()  # reading never creates anything
    assert not Path("out.json").exists()


def test_the_default_store_comes_from_raeburn_db_path(cli: Any, offline_home: Path) -> None:
    default = offline_home / ".raeburnbrain" / "graph.json"
    cli("stats").assert_error(1, str(default))
    cli(
        "add", "--prompt-id", "p1", "--prompt-text", "t", "--response-id", "r1",
        "--response-text", "x", "--agent-id", "a1", "--session-id", "s1",
    ).assert_ok()  # fmt: skip
    assert default.exists()
    assert cli("--json", "stats").json()["location"] == str(default)


def test_a_corrupt_store_is_named_and_left_untouched(cli: Any, db: Path, add_one: Any) -> None:
    add_one(1)
    db.write_text('{"directed": true, "nodes": [')
    before = db.read_bytes()
    cli("--db", db, "stats").assert_error(1, str(db))
    cli("--db", db, "show", "p1").assert_error(1, str(db))
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--backend", "mongo", "stats"], "'--backend'"),
        (["--vectors", "annoy", "stats"], "annoy"),
        (["--option", "no-equals", "stats"], "KEY=VALUE"),
        (["--option", "colour=blue", "stats"], "colour"),
        (["stats", "--bogus"], "--bogus"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_global_values_are_usage_errors(
    cli: Any, db: Path, add_one: Any, args: list[str], fragment: str
) -> None:
    add_one(1)
    cli("--db", db, *args).assert_error(2, fragment)


def test_a_backend_that_is_not_installed_says_what_to_install(
    cli: Any, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raeburnmemory.core import registry

    monkeypatch.setattr(registry, "_entry_points", lambda group: {})
    registry._load.cache_clear()
    try:
        cli("--db", db, "--backend", "sqlite", "stats").assert_error(1, "pip install")
    finally:
        registry._load.cache_clear()


def test_an_unexpected_error_is_still_one_line(
    cli: Any, db: Path, add_one: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if importlib.util.find_spec("raeburnmemory.sqlite") is None:
        pytest.skip("raeburnmemory-sqlite is not installed")
    add_one(1)
    # Import the modules that bind copy_store before it is patched, so none keeps the broken one.
    importlib.import_module("raeburnmemory.sqlite.store")
    from raeburnmemory.core import transfer

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("wires crossed")

    monkeypatch.setattr(transfer, "copy_store", broken)
    run = cli("--db", db, "migrate", "--to", "sqlite")
    run.assert_error(1, "RuntimeError", "wires crossed", "RAEBURN_DEBUG")


def test_a_named_model_that_cannot_load_is_a_one_line_error(
    cli: Any, db: Path, add_one: Any
) -> None:
    if importlib.util.find_spec("sentence_transformers") is not None:
        pytest.skip("the real model is installed: it loads")
    add_one(1)
    run = cli("--db", db, "--model", "all-MiniLM-L6-v2", "similar", "--text", "question")
    run.assert_error(2, "all-MiniLM-L6-v2", "sentence-transformers")


def test_bare_command_shows_the_help(cli: Any) -> None:
    run = cli()
    assert run.code == 2
    assert "Usage" in run.stderr + run.stdout
    assert "similar" in run.stderr + run.stdout


def test_help_lists_every_command(cli: Any) -> None:
    text = cli("--help").assert_ok().stdout
    for command in (
        "add", "export", "similar", "import", "history", "show", "stats",
        "delete", "reindex", "migrate", "serve", "demo",
    ):  # fmt: skip
        assert command in text


def test_a_global_option_after_the_command_works_as_before_it(cli: Any, db: Path) -> None:
    cli("--db", db, "add", "--prompt-id", "p1", "--prompt-text", "t", "--response-id", "r1",
        "--response-text", "x", "--agent-id", "a1", "--session-id", "s1").assert_ok()  # fmt: skip
    assert cli("stats", "--json", "--db", db).assert_ok().json()["interactions"] == 1
