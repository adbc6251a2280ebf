"""--url: the commands the API serves, sent to a real uvicorn server, print what a local run
prints; the server's refusals are the command's usual one-line errors."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from raeburnmemory.memory_graph import MemoryGraph

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

API_INSTALLED = importlib.util.find_spec("raeburnmemory.api") is not None
needs_api = pytest.mark.skipif(not API_INSTALLED, reason="raeburnmemory-api is not installed")

KEY = "the-key"
MODULE = [sys.executable, "-m", "raeburnmemory.cli"]
# The same interactions, at fixed times, make the same store wherever they are added.
RECORDS = [
    ("p1", "how do I reset my password", "s1", "a1", "2026-01-02T10:00:00Z"),
    ("p2", "bake bread with a sourdough starter", "s1", "a2", "2026-01-02T10:05:00Z"),
    ("p3", "reset the router password", "s2", "a1", "2026-01-03T08:00:00Z"),
    ("p4", "tune the database for reads", "s2", "a1", "2026-01-03T08:30:00Z"),
]


def fill(cli: Any, db: Path, *, skip: tuple[str, ...] = ()) -> None:
    """Add :data:`RECORDS` to the store at ``db`` with the offline encoder."""
    for prompt_id, text, session, agent, when in RECORDS:
        if prompt_id in skip:
            continue
        cli(
            "--db", db, "--model", "none", "add", "--prompt-id", prompt_id,
            "--prompt-text", text, "--response-id", f"r{prompt_id}",
            "--response-text", f"answer to {text}", "--agent-id", agent,
            "--session-id", session, "--timestamp", when, "--metadata", '{"n": 1}',
        ).assert_ok()  # fmt: skip


@pytest.fixture
def served(cli: Any, tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """A real uvicorn server with API key :data:`KEY` on a filled store, and that store."""
    from raeburnmemory.api.testing import running_servers

    store = tmp_path / "served" / "graph.json"
    fill(cli, store)
    with running_servers(tmp_path) as start:
        yield start({"RAEBURN_DB_PATH": str(store), "RAEBURN_API_KEY": KEY}, workers=1), store


def remote(cli: Any, server: Any, *args: str) -> Any:
    """Run the command through ``--url`` with the right key."""
    return cli("--url", server.url, "--api-key", KEY, *args)


def assert_same_output(cli: Any, served: tuple[Any, Path], commands: list[list[str]]) -> None:
    """Each command prints the same through the server as on its store, and not nothing."""
    server, store = served
    for args in commands:
        local = cli("--db", store, "--model", "none", *args).assert_ok()
        through = remote(cli, server, *args).assert_ok()
        assert through.stdout == local.stdout, args
        assert through.stdout.strip(), args


SAME_OUTPUT = [
    ["similar", "reset password"],
    ["--json", "similar", "reset password", "-k", "3", "--session", "s1"],
    ["similar", "password", "--mode", "keyword"],
    ["--json", "similar", "bread", "--mode", "hybrid", "--agent", "a2"],
    ["show", "p2"],
    ["--json", "show", "p2"],
    ["history"],
    ["--json", "history"],
    ["history", "--session", "s2"],
    ["--json", "history", "--session", "s2"],
    ["stats"],
    ["--json", "stats"],
]


@needs_api
def test_every_served_command_prints_what_the_local_store_prints(
    cli: Any, served: tuple[Any, Path]
) -> None:
    assert_same_output(cli, served, SAME_OUTPUT)


@needs_api
def test_writes_through_the_server_match_local_writes(
    cli: Any, served: tuple[Any, Path], tmp_path: Path
) -> None:
    server, store = served
    twin = tmp_path / "twin" / "graph.json"
    fill(cli, twin, skip=("p4",))  # the twin lacks p4: adding it says "added" there too
    add = [
        "add", "--prompt-id", "p9", "--prompt-text", "plant tomatoes in spring",
        "--response-id", "r9", "--response-text", "after the frost", "--agent-id", "a1",
        "--session-id", "s3", "--timestamp", "2026-02-01T09:00:00Z",
    ]  # fmt: skip
    for args in (add, add, ["delete", "--prompt", "p9", "--yes"]):
        local = cli("--db", twin, "--model", "none", *args).assert_ok()
        through = remote(cli, server, *args).assert_ok()
        assert through.stdout == local.stdout
    local = cli("--db", twin, "--model", "none", "--json", *add).assert_ok().json()
    through = remote(cli, server, "--json", *add).assert_ok().json()
    assert local.pop("store") == str(twin)
    assert through.pop("store") == server.url
    assert through == local == {"prompt_id": "p9", "added": True}
    remote(cli, server, "delete", "--session", "s2", "--yes").assert_ok()
    # The server wrote to its store: a local run over the same file sees it.
    sessions = cli("--db", store, "--model", "none", "--json", "history").assert_ok().json()
    assert sessions == ["s1", "s3"]


@needs_api
def test_the_servers_refusals_are_the_local_one_line_errors(
    cli: Any, served: tuple[Any, Path]
) -> None:
    server, store = served
    for args, code in ((["show", "nope"], 1), (["history", "--session", "nope"], 1)):
        local = cli("--db", store, "--model", "none", *args).assert_error(code)
        remote(cli, server, *args).assert_error(code)
        assert remote(cli, server, *args).stderr == local.stderr
    # A value the server's schema refuses (the local store has no such bound) is a usage error.
    remote(cli, server, "similar", "x", "--min-score", "2").assert_error(2, "min_score")
    cli("--url", server.url, "--api-key", "wrong", "stats").assert_error(
        1, "API key", "--api-key or RAEBURN_API_KEY"
    )
    cli("--url", server.url, "stats").assert_error(1, "API key")


@needs_api
def test_url_and_key_come_from_the_environment_and_give_way_to_a_local_db(
    cli: Any, served: tuple[Any, Path], tmp_path: Path
) -> None:
    server, _ = served
    env = {"RAEBURN_URL": server.url, "RAEBURN_API_KEY": KEY}
    assert cli("--json", "stats", **env).assert_ok().json()["interactions"] == len(RECORDS)
    other = tmp_path / "other" / "graph.json"
    cli("--db", other, "stats", **env).assert_error(1, str(other))
    # Commands the server does not offer run on the local store as they always do.
    cli("--db", other, "--model", "none", "reindex", **env).assert_error(1, str(other))


@needs_api
def test_the_server_is_used_from_a_real_process_and_a_server_down_is_one_line(
    process: Any, served: tuple[Any, Path]
) -> None:
    server, _ = served
    env = {"RAEBURN_URL": server.url, "RAEBURN_API_KEY": KEY}
    found = process([*MODULE, "--json", "similar", "sourdough bread"], env=env).assert_ok()
    assert found.json()["ids"][0] == "p2"
    server.stop()
    down = process([*MODULE, "similar", "sourdough bread"], env=env)
    down.assert_error(1, "cannot reach", server.url)


@needs_api
def test_a_rate_limited_request_is_one_line(cli: Any, tmp_path: Path) -> None:
    from raeburnmemory.api.testing import running_servers

    with running_servers(tmp_path) as start:
        server = start({"RAEBURN_RATE_LIMIT": "1"}, workers=1)
        cli("--url", server.url, "stats").assert_ok()
        cli("--url", server.url, "stats").assert_error(1, "more in")


@pytest.mark.parametrize(
    "args",
    [
        ["reindex"],
        ["export", "-O", "out.json"],
        ["import", "in.jsonl"],
        ["migrate", "--to", "sqlite"],
        ["serve"],
        ["demo"],
    ],
    ids=lambda args: args[0],
)
def test_commands_the_api_does_not_serve_refuse_url(cli: Any, args: list[str]) -> None:
    cli("--url", "http://127.0.0.1:9", *args).assert_error(2, "--url", "local store only")
    assert not Path("out.json").exists()
    # Their help is still shown.
    assert "Usage:" in cli("--url", "http://127.0.0.1:9", *args, "--help").assert_ok().stdout


@pytest.mark.parametrize(
    "option", [["--db", "x.json"], ["--model", "none"], ["--backend", "sqlite"], ["-o", "a=1"]]
)
def test_url_with_an_option_of_a_local_store_is_a_usage_error(cli: Any, option: list[str]) -> None:
    cli("--url", "http://127.0.0.1:9", *option, "stats").assert_error(2, "leave out", option[0])


def test_a_url_that_is_no_url_is_a_usage_error(cli: Any) -> None:
    if not API_INSTALLED:
        pytest.skip("raeburnmemory-api is not installed")
    cli("--url", "localhost", "stats").assert_error(2, "'localhost' is no URL")


def test_without_the_api_distribution_url_says_what_to_install(
    process: Any, tmp_path: Path
) -> None:
    # Where raeburnmemory-api is installed, its client is hidden from this one process.
    hide = "import sys; sys.modules['raeburnmemory.api.client'] = None; " if API_INSTALLED else ""
    code = f"{hide}from raeburnmemory.cli import main; main()"
    run = process([sys.executable, "-c", code, "--url", "http://127.0.0.1:9", "stats"])
    run.assert_error(1, "--url", "pip install raeburnmemory-api")


def test_a_store_of_another_encoder_names_both_dimensions_and_the_reindex_to_run(
    cli: Any, db: Path, process: Any
) -> None:
    fill(cli, db)
    args = ["--db", str(db), "--model", "raeburn-hashing-64"]
    run = cli(*args, "similar", "reset password").assert_error(1)
    assert "'raeburn-hashing-384' (384 dimensions)" in run.stderr
    assert "'raeburn-hashing-64' (64 dimensions)" in run.stderr
    assert "--model raeburn-hashing-384" in run.stderr
    command = f"raeburnmemory --db {db} --model raeburn-hashing-64 reindex"
    assert run.stderr.rstrip().endswith(command), run.stderr
    assert "reindex=True" not in run.stderr
    # The command it names does the job, in a real process.
    process([*MODULE, *command.split()[1:]]).assert_ok()
    found = cli(*args, "--json", "similar", "reset password").assert_ok().json()
    assert found["ids"][0] in ("p1", "p3")


# -- list, count, update, forget, --on-conflict and --where through the server --------------


LISTING_OUTPUT = [
    ["list"],
    ["--json", "list", "-n", "2"],
    ["list", "--all", "-n", "1", "--session", "s2", "--order", "desc"],
    ["list", "--since", "2026-01-02T10:05:00Z", "--until", "2026-01-03T08:00:00Z"],
    ["count"],
    ["--json", "count", "--agent", "a1", "--where", '{"n": 1}'],
]


@needs_api
def test_listing_through_the_server_prints_what_the_local_store_prints(
    cli: Any, served: tuple[Any, Path]
) -> None:
    assert_same_output(cli, served, LISTING_OUTPUT)
    server = served[0]
    first = remote(cli, server, "--json", "list", "-n", "3").assert_ok().json()
    rest = remote(cli, server, "--json", "list", "-n", "3", "--cursor", first["next_cursor"])
    ids = [item["prompt_id"] for item in first["items"] + rest.assert_ok().json()["items"]]
    assert ids == ["p1", "p2", "p3", "p4"]


@needs_api
def test_update_forget_and_on_conflict_through_the_server(
    cli: Any, served: tuple[Any, Path]
) -> None:
    server, store = served
    updated = remote(cli, server, "--json", "update", "p2", "--response", "rye instead")
    assert updated.assert_ok().json()["response_text"] == "rye instead"
    add = [
        "add", "--prompt-id", "p1", "--prompt-text", "how do I reset my password",
        "--response-id", "rp1", "--response-text", "another answer", "--agent-id", "a1",
        "--session-id", "s1", "--timestamp", "2026-01-02T10:00:00Z",
    ]  # fmt: skip
    remote(cli, server, *add).assert_error(1, "p1")
    assert remote(cli, server, *add, "--on-conflict", "skip").assert_ok().stdout == (
        "p1 is stored already; kept as it is\n"
    )
    remote(cli, server, *add, "--on-conflict", "replace").assert_ok()
    gone = remote(cli, server, "--json", "forget", "--session", "s2", "--yes").assert_ok()
    assert gone.json() == {"forgotten": 2}
    remote(cli, server, "forget", "--yes").assert_error(2, "--everything")
    # The server wrote to its store: a local run over the same file sees it.
    with MemoryGraph(store, embedding_model=None) as memory:
        assert memory.count() == 2
        assert memory.get_interaction("p1").response_text == "another answer"
        assert memory.get_interaction("p2").response_text == "rye instead"


@needs_api
def test_similar_with_where_through_the_server(cli: Any, served: tuple[Any, Path]) -> None:
    server, store = served
    args = ["--json", "similar", "reset password", "--where", '{"n": {"$gte": 1}}']
    local = cli("--db", store, "--model", "none", *args).assert_ok()
    assert remote(cli, server, *args).assert_ok().stdout == local.stdout
    none = remote(cli, server, "--json", "similar", "reset", "--where", '{"n": 2}').assert_ok()
    assert none.json()["ids"] == []
