"""Fixtures of the command-line tests: the Typer runner on an offline temporary home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from raeburnmemory.cli import app

#: Where the console script of this environment lives.
SCRIPT = Path(sys.executable).with_name("raeburnmemory")


@dataclass
class Run:
    """What one command run printed and how it ended."""

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    def json(self) -> Any:
        """Standard output read back as JSON."""
        return json.loads(self.stdout)

    def lines(self) -> list[str]:
        """Standard output, line by line."""
        return self.stdout.splitlines()

    def assert_ok(self) -> Run:
        """Fail with what was printed unless the command succeeded."""
        assert self.code == 0, f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"
        return self

    def assert_error(self, code: int, *fragments: str) -> Run:
        """The command failed with ``code`` and one error line containing every fragment."""
        assert self.code == code, f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("raeburnmemory: error: "), lines[0]
        for fragment in fragments:
            assert fragment in lines[0], lines[0]
        assert "Traceback" not in self.stderr + self.stdout
        assert self.exception is None or isinstance(self.exception, SystemExit), self.exception
        return self


Cli = Callable[..., Run]


@pytest.fixture(autouse=True)
def _offline(offline_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in a fresh folder, offline, with its default store in a temporary home."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("RAEBURN_DEBUG", raising=False)
    for name in ("RAEBURN_URL", "RAEBURN_API_KEY"):  # a server the caller's shell names
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store path in a folder that does not exist yet."""
    return tmp_path / "stores" / "memory" / "graph.json"


@pytest.fixture
def cli() -> Cli:
    """``cli("--db", path, "stats", input=..., env=...)`` runs the app in-process."""
    runner = CliRunner()

    def invoke(*args: str | os.PathLike[str], input: str | None = None, **env: str) -> Run:
        result = runner.invoke(app, [os.fspath(arg) for arg in args], input=input, env=env or None)
        return Run(result.exit_code, result.stdout, result.stderr, result.exception)

    return invoke


def _run_process(
    args: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
    timeout: float = 60,
    input: str | None = None,
) -> Run:
    """Run a command in a real subprocess and collect what it printed.

    ``env`` is added to this process's environment, and the variables in ``unset`` removed;
    ``input`` is its standard input.
    """
    environment = {**os.environ, **(env or {})}
    for name in unset:
        environment.pop(name, None)
    done = subprocess.run(
        [os.fspath(arg) for arg in args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
        input=input,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _interaction_line(index: int, session: str = "s1", **changes: Any) -> str:
    """One JSON Lines record, numbered."""
    record: dict[str, Any] = {
        "prompt": {"id": f"p{index}", "text": f"question {index} about the topic {index % 3}"},
        "response": {"id": f"r{index}", "text": f"answer {index}"},
        "agent": {"id": "a1", "name": "Helper"},
        "session_id": session,
        "metadata": {"n": index},
    }
    record.update(changes)
    return json.dumps(record)


@pytest.fixture
def process() -> Callable[..., Run]:
    """``process([args], env={...}, unset=[...], input=...)`` runs a command in a real
    subprocess."""
    return _run_process


@pytest.fixture
def line() -> Callable[..., str]:
    """``line(3, session="s2", metadata={...})``: one numbered JSON Lines interaction."""
    return _interaction_line


@pytest.fixture
def add_one(cli: Cli, db: Path) -> Callable[..., Run]:
    """Adds interaction ``n`` to the test store through the ``add`` command."""

    def add(n: int, session: str = "s1", text: str | None = None, agent: str = "a1") -> Run:
        return cli(
            "--db", db, "add",
            "--prompt-id", f"p{n}",
            "--prompt-text", text or f"question {n} about the topic {n % 3}",
            "--response-id", f"r{n}",
            "--response-text", f"answer {n}",
            "--agent-id", agent,
            "--agent-name", agent.upper(),
            "--session-id", session,
        ).assert_ok()  # fmt: skip

    return add
