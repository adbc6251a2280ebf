"""Every ```python block of README.md and docs/ runs, in order, one namespace per file.

Each file runs in a fresh interpreter whose working directory, ``HOME`` and ``RAEBURN_DB_PATH``
point into a new temporary folder. A block that cannot run offline (it needs a server, say) is
marked by ``<!-- skip: why -->`` on the line before it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from repo_layout import ROOT

# Real processes or long property searches: the main Python's test session runs it.
pytestmark = pytest.mark.slow

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>```+)\s*(?P<lang>[\w+-]*)")
SKIP = re.compile(r"^\s*<!--\s*skip:\s*(?P<reason>\S.*?)\s*-->\s*$")
RUNNER = """
import json, sys

namespace = {"__name__": "__main__"}
for block in json.load(sys.stdin):
    source = "\\n" * (block["line"] - 1) + block["code"]
    exec(compile(source, block["path"], "exec"), namespace)
"""


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, its code, and where it starts."""

    path: str
    line: int
    lang: str
    code: str
    skip: str | None


def markdown_files() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def code_blocks(path: Path) -> list[Block]:
    """The fenced blocks of a markdown file, with the skip reason written before each."""
    lines = path.read_text("utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index
        ticks = opening["ticks"]
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(ticks):
            index += 1
        code = textwrap.dedent("\n".join(lines[start + 1 : index])) + "\n"
        previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = SKIP.match(previous)
        relative = str(path.relative_to(ROOT))
        blocks.append(
            Block(relative, start + 2, opening["lang"], code, marker["reason"] if marker else None)
        )
        index += 1
    return blocks


def runnable(path: Path) -> list[Block]:
    """The python blocks of a file that are not marked to be skipped."""
    return [b for b in code_blocks(path) if b.lang == "python" and b.skip is None]


@pytest.mark.parametrize(
    "path",
    [p for p in markdown_files() if runnable(p)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_python_blocks_run(path: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "RAEBURN_DB_PATH": str(tmp_path / "memory" / "graph.json"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    blocks = json.dumps([asdict(block) for block in runnable(path)])
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=blocks,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"a python block of {path.name} failed:\n{done.stderr[-4000:]}"


def test_readme_quick_start_is_one_block_of_two_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in code_blocks(ROOT / "README.md") if b.code.strip() in section]
    commands = [line for line in block.code.splitlines() if line.strip()]
    assert block.lang == "bash"
    assert len(commands) == 2
    assert commands[0].startswith("python -m pip install ./packages/raeburnmemory-core ")
    assert commands[1] == "python -m pip install nox && python -m nox"


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text("utf-8")
    assert re.search(r"^python -m nox\s*$", script, re.M)


def test_skip_markers_say_why() -> None:
    loose = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in markdown_files()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if "<!-- skip" in line and not SKIP.match(line)
    ]
    assert loose == []
