"""--version names the lockstep version of every installed raeburnmemory distribution."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from raeburnmemory.cli._versions import installed_versions, version_lines


def test_every_installed_distribution_is_listed_with_its_version() -> None:
    found = installed_versions()
    assert "raeburnmemory-cli" in found
    assert "raeburnmemory-core" in found
    for name, value in found.items():
        assert value == version(name)


def test_the_first_line_is_the_lockstep_version(cli: Any) -> None:
    run = cli("--version").assert_ok()
    lines = run.lines()
    assert lines == version_lines()
    assert lines[0] == f"raeburnmemory {version('raeburnmemory-cli')}"
    assert f"  raeburnmemory-core {version('raeburnmemory-core')}" in lines


def test_disagreeing_versions_are_called_out(monkeypatch: Any) -> None:
    import raeburnmemory.cli._versions as versions

    found = {"raeburnmemory-cli": "1.0", "raeburnmemory-core": "0.9"}
    monkeypatch.setattr(versions, "installed_versions", lambda: found)
    lines = versions.version_lines()
    assert "disagree" in lines[0]
    assert lines[1:] == ["  raeburnmemory-cli 1.0", "  raeburnmemory-core 0.9"]
