"""A new user's first runs, through the installed ``raeburnmemory`` script in real processes.

The store named is the store used, files that are not stores are said to be so and left alone,
the encoder follows the store, text and limits follow one rule, and the command line follows the
conventions of the tools people know.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

SCRIPT = Path(sys.executable).with_name("raeburnmemory")
needs_sqlite = pytest.mark.skipif(
    importlib.util.find_spec("raeburnmemory.sqlite") is None,
    reason="raeburnmemory-sqlite is not installed",
)
no_real_model = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="the real model is installed here: nothing falls back",
)
SQLITE_HEADER = b"SQLite format 3\x00"

Raeburn = Callable[..., Any]


@pytest.fixture
def raeburn(process: Any) -> Raeburn:
    """``raeburn(*args, env={...}, unset=[...])`` runs the console script in a subprocess."""
    if not SCRIPT.exists():
        pytest.skip("the console script is not installed beside this Python")

    def run(*args: str | os.PathLike[str], **options: Any) -> Any:
        return process([SCRIPT, *args], **options)

    return run


def _add(
    raeburn: Raeburn,
    *options: str | os.PathLike[str],
    n: int = 1,
    extra: tuple[str, ...] = (),
    **kw: Any,
) -> Any:
    """``add`` interaction ``n``; ``options`` go before the command, ``extra`` after it."""
    return raeburn(
        *options, "add", "--prompt-id", f"p{n}", "--prompt-text", f"question {n} about bread",
        "--response-id", f"r{n}", "--response-text", f"answer {n}", "--agent-id", "a1",
        "--session-id", "s1", *extra, **kw,
    )  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder for the stores of one test."""
    path = tmp_path / "stores"
    path.mkdir()
    return path


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- the path given is the store used ---------------------------------------------------------


@needs_sqlite
def test_sqlite_backend_on_a_json_store_says_what_it_is_and_makes_nothing(
    raeburn: Raeburn, tmp_path: Path
) -> None:
    store = tmp_path / "m.json"
    _add(raeburn, "--db", store).assert_ok()
    before = _listing(tmp_path)
    run = raeburn("--backend", "sqlite", "--db", store, "stats")
    run.assert_error(1, f"{store} is a raeburnmemory JSON store", "--backend sqlite")
    assert _listing(tmp_path) == before  # no m.db made by importing m.json


@needs_sqlite
def test_an_existing_sqlite_file_is_opened_as_sqlite_without_backend(
    raeburn: Raeburn, tmp_path: Path
) -> None:
    store = tmp_path / "memory.data"
    _add(raeburn, "--backend", "sqlite", "--db", store).assert_ok()
    assert store.read_bytes()[:16] == SQLITE_HEADER
    stats = raeburn("--db", store, "--json", "stats").assert_ok().json()
    assert stats["storage_backend"] == "sqlite"
    assert stats["location"] == str(store)
    assert stats["interactions"] == 1


@needs_sqlite
@pytest.mark.parametrize("name", ["new.db", "new.sqlite", "new.sqlite3"])
def test_a_new_file_with_a_sqlite_extension_is_a_sqlite_store(
    raeburn: Raeburn, folder: Path, name: str
) -> None:
    _add(raeburn, "--db", folder / name).assert_ok()
    assert sorted(p.name for p in folder.iterdir()) == [name]
    assert (folder / name).read_bytes()[:16] == SQLITE_HEADER


@needs_sqlite
def test_migrate_writes_the_file_named_by_dsn(raeburn: Raeburn, tmp_path: Path) -> None:
    source = tmp_path / "g.json"
    for n in (1, 2):
        _add(raeburn, "--db", source, n=n).assert_ok()
    target = tmp_path / "other.sqlite"
    data = raeburn("--db", source, "--json", "migrate", "--to", "sqlite", "--dsn", target).json()
    assert data["target"] == str(target)
    assert target.read_bytes()[:16] == SQLITE_HEADER
    assert not (tmp_path / "other.db").exists()
    assert raeburn("--db", target, "--json", "stats").json()["interactions"] == 2


@needs_sqlite
def test_migrate_reports_what_it_moved(raeburn: Raeburn, tmp_path: Path) -> None:
    source = tmp_path / "g.json"
    for n in (1, 2, 3):
        _add(raeburn, "--db", source, n=n).assert_ok()
    data = raeburn("--db", source, "--json", "migrate", "--to", "sqlite").assert_ok().json()
    assert data["target"] == str(tmp_path / "g.db")
    assert (data["added"], data["target_interactions"]) == (3, 3)
    again = raeburn("--db", source, "--json", "migrate", "--to", "sqlite").assert_ok().json()
    assert (again["added"], again["target_interactions"]) == (0, 3)


@needs_sqlite
def test_a_new_sqlite_store_imports_its_json_namesake_once(
    raeburn: Raeburn, tmp_path: Path
) -> None:
    _add(raeburn, "--db", tmp_path / "g.json", n=1).assert_ok()
    _add(raeburn, "--db", tmp_path / "g.db", n=2).assert_ok()
    _add(raeburn, "--db", tmp_path / "g.json", n=3).assert_ok()  # the JSON store goes on alone
    history = raeburn("--db", tmp_path / "g.db", "history", "--session", "s1").assert_ok()
    assert [line.split("\t")[0] for line in history.lines()] == ["p1", "p2"]


@needs_sqlite
def test_a_json_file_that_is_not_a_store_never_blocks_a_database(
    raeburn: Raeburn, folder: Path
) -> None:
    notes = folder / "notes.json"
    notes.write_text('{"theme": "dark"}\n')
    _add(raeburn, "--db", folder / "notes.db").assert_ok()
    assert notes.read_text() == '{"theme": "dark"}\n'
    assert sorted(p.name for p in folder.iterdir()) == ["notes.db", "notes.json"]


# -- read-only commands make nothing ------------------------------------------------------------

READ_ONLY = [
    ["stats"],
    ["similar", "bread"],
    ["show", "p1"],
    ["history"],
    ["export", "-O", "out.json"],
]


@needs_sqlite
@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: c[0])
def test_a_read_only_command_never_imports_a_json_store(
    raeburn: Raeburn, tmp_path: Path, command: list[str]
) -> None:
    _add(raeburn, "--db", tmp_path / "g.json").assert_ok()
    before = _listing(tmp_path)
    for backend in (["--backend", "sqlite"], []):
        run = raeburn(*backend, "--db", tmp_path / "g.db", *command)
        run.assert_error(1, str(tmp_path / "g.db"))
    assert _listing(tmp_path) == before
    assert not Path("out.json").exists()


# -- files that are not stores --------------------------------------------------------------


def _sqlite_file(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE settings (key TEXT, value TEXT)")
    conn.close()


NOT_STORES: dict[str, Callable[[Path], None]] = {
    "settings": lambda p: p.write_text('{"theme": "dark"}'),
    "empty": lambda p: p.write_bytes(b""),
    "list": lambda p: p.write_text("[]"),
    "truncated": lambda p: p.write_text('{"directed": true, "nodes": ['),
    "text": lambda p: p.write_text("hello\n"),
}


@pytest.mark.parametrize("kind", sorted(NOT_STORES))
@pytest.mark.parametrize("command", [["stats"], ["similar", "bread"], ["add"]])
def test_a_file_that_is_not_a_store_is_named_and_left_alone(
    raeburn: Raeburn, tmp_path: Path, kind: str, command: list[str]
) -> None:
    path = tmp_path / "config.json"
    NOT_STORES[kind](path)
    before = _listing(tmp_path)
    run = _add(raeburn, "--db", path) if command == ["add"] else raeburn("--db", path, *command)
    run.assert_error(1, f"{path} is", "not a raeburnmemory store")
    assert "map.json" not in run.stderr
    assert _listing(tmp_path) == before  # no config.json.lock either


def test_a_sqlite_file_opened_as_json_says_so(raeburn: Raeburn, tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    _sqlite_file(path)
    before = _listing(tmp_path)
    run = raeburn("--backend", "json", "--db", path, "stats")
    run.assert_error(1, f"{path} is a SQLite database: add --backend sqlite")
    assert _listing(tmp_path) == before


def test_damage_to_a_real_store_keeps_its_precise_message(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    _add(raeburn, "--db", store).assert_ok()
    Path(f"{store}.map.json").unlink()
    raeburn("--db", store, "stats").assert_error(1, "g.json.map.json: the vector map is missing")


# -- the embedding model ------------------------------------------------------------------------


@no_real_model
def test_a_store_with_vectors_uses_its_own_encoder(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    _add(raeburn, "--db", store, "--model", "none").assert_ok()
    run = raeburn("--db", store, "--json", "similar", "question 1", unset=["RAEBURN_EMBED_MODEL"])
    assert run.assert_ok().json()["ids"] == ["p1"]
    assert run.stderr == ""  # no attempt at the default model, no warning


@no_real_model
def test_a_new_store_without_a_model_says_so_in_one_line(raeburn: Raeburn, tmp_path: Path) -> None:
    run = _add(raeburn, "--db", tmp_path / "g.json", unset=["RAEBURN_EMBED_MODEL"]).assert_ok()
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    (line,) = lines
    assert line.startswith("raeburnmemory: warning: ")
    for fragment in ("RAEBURN_EMBED_MODEL=none", "--model none", "pip install"):
        assert fragment in line
    assert "embedding_model" not in line


@no_real_model
def test_the_library_says_it_once_per_process(tmp_path: Path) -> None:
    code = f"""
import warnings
warnings.simplefilter("always")
from raeburnmemory.memory_graph import MemoryGraph

for name in ("a", "b"):
    with MemoryGraph({str(tmp_path)!r} + f"/{{name}}.json") as graph:
        graph.add_interaction({{"id": "p", "text": "hi"}}, {{"id": "r", "text": "yo"}},
                              {{"id": "x"}}, "s")
"""
    env = {k: v for k, v in os.environ.items() if k != "RAEBURN_EMBED_MODEL"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    warned = [line for line in done.stderr.splitlines() if "EncoderFallbackWarning" in line]
    assert len(warned) == 1, done.stderr
    assert "RAEBURN_EMBED_MODEL=none" in warned[0]


# -- one rule for text and limits -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_query_is_refused(raeburn: Raeburn, tmp_path: Path, text: str) -> None:
    _add(raeburn, "--db", tmp_path / "g.json").assert_ok()
    raeburn("--db", tmp_path / "g.json", "similar", text).assert_error(
        2, "the search text is empty"
    )
    raeburn("--db", tmp_path / "g.json", "similar", "--text", text).assert_error(
        2, "the search text is empty"
    )


def test_an_empty_prompt_text_is_refused(raeburn: Raeburn, tmp_path: Path) -> None:
    run = raeburn(
        "--db", tmp_path / "g.json", "add", "--prompt-id", "p1", "--prompt-text", " ",
        "--response-id", "r1", "--response-text", "x", "--agent-id", "a", "--session-id", "s",
    )  # fmt: skip
    run.assert_error(2, "prompt text is empty")
    assert not (tmp_path / "g.json").exists()


def test_top_k_has_the_library_bounds(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    _add(raeburn, "--db", store).assert_ok()
    raeburn("--db", store, "similar", "bread", "-k", "1000").assert_ok()
    raeburn("--db", store, "similar", "bread", "-k", "1001").assert_error(2, "'--top-k'", "1000")
    assert "from 1 to 1000" in raeburn("similar", "--help").assert_ok().stdout


# -- command line conventions ---------------------------------------------------------------------


def test_similar_takes_its_text_as_an_argument(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    for n in (1, 2):
        _add(raeburn, "--db", store, n=n).assert_ok()
    by_argument = raeburn("--db", store, "--json", "similar", "question 2 about").json()
    by_option = raeburn("--db", store, "--json", "similar", "--text", "question 2 about").json()
    assert by_argument == by_option
    assert by_argument["ids"][0] == "p2"


def test_global_options_go_before_or_after_the_command(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    _add(raeburn, "--db", store).assert_ok()
    before = raeburn("--db", store, "--json", "similar", "bread").assert_ok().json()
    after = raeburn("similar", "bread", "--json", "--db", store, "--model", "none").json()
    mixed = raeburn("--json", "similar", "--db", store, "bread", "-k", "3").json()
    assert before == after == mixed


def test_export_dash_o_names_the_output_option(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    _add(raeburn, "--db", store).assert_ok()
    run = raeburn("--db", store, "export", "-o", tmp_path / "out.json")
    run.assert_error(2, "-O/--output")
    assert not (tmp_path / "out.json").exists()


def test_help_shows_flags_as_flags_with_metavariables(raeburn: Raeburn) -> None:
    for command in ([], ["similar"], ["add"], ["delete"], ["import"], ["migrate"], ["serve"]):
        text = raeburn(*command, "--help").assert_ok().stdout
        for shown_type in ("<bool>", "<str>", "<int"):
            assert shown_type not in text, text
    top = raeburn("--help").stdout
    for fragment in ("  --json ", "--db PATH", "-o, --option KEY=VALUE"):
        assert fragment in top
    search = raeburn("similar", "--help").stdout
    for fragment in ("-k, --top-k N", "--session ID", "  TEXT "):
        assert fragment in search


def test_history_lists_sizes_and_times(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    for n, stamp in ((1, "2025-01-06T09:00:00Z"), (2, "2025-01-06T10:30:00Z")):
        _add(raeburn, "--db", store, n=n, extra=("--timestamp", stamp)).assert_ok()
    run = raeburn("--db", store, "history").assert_ok()
    assert run.lines() == ["s1\t2\t2025-01-06T09:00:00Z\t2025-01-06T10:30:00Z"]


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the script with standard error on a pseudo-terminal; its exit code and that output."""
    main, other = pty.openpty()
    process = subprocess.Popen(
        [str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=other,
        env={**os.environ, **env},
    )
    os.close(other)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.communicate(timeout=120)
    os.close(main)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_the_import_bar_counts_interactions(tmp_path: Path, line: Callable[..., str]) -> None:
    if not SCRIPT.exists():
        pytest.skip("the console script is not installed beside this Python")
    source = tmp_path / "talks.jsonl"
    source.write_text("".join(line(n) + "\n" for n in range(3000)))
    code, shown = _on_a_terminal(
        ["--db", str(tmp_path / "g.json"), "import", str(source), "--batch-size", "500"],
        {"COLUMNS": "160"},
    )
    assert code == 0, shown
    assert "3000/3000" in shown
    assert "interactions/s" in shown
    assert "3000/" + str(source.stat().st_size) not in shown  # not bytes


def test_hnsw_without_faiss_names_the_install(process: Any, tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['faiss'] = None; sys.argv[0] = 'raeburnmemory'\n"
        "from raeburnmemory.cli import main; main()"
    )
    base = [sys.executable, "-c", code, "--db", tmp_path / "g.json"]
    process([
        *base, "add", "--prompt-id", "p", "--prompt-text", "hi", "--response-id", "r",
        "--response-text", "x", "--agent-id", "a", "--session-id", "s",
    ]).assert_ok()  # fmt: skip
    process([*base, "-o", "index=hnsw", "similar", "hi"]).assert_error(
        1, "-o index=hnsw", "pip install 'raeburnmemory-core[faiss]'"
    )


def test_errors_speak_command_line_words(raeburn: Raeburn, tmp_path: Path) -> None:
    store = tmp_path / "g.json"
    _add(raeburn, "--db", store).assert_ok()
    run = raeburn("--db", store, "--vectors", "sqlite-vec", "stats")
    run.assert_error(2, "--backend sqlite")
    run = raeburn("--db", store, "-o", "colour=blue", "stats")
    run.assert_error(2, "-o option")
    assert "storage_backend" not in run.stderr
    data = json.loads(raeburn("--db", store, "--json", "stats").stdout)
    assert data["interactions"] == 1
