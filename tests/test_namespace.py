"""The shared ``raeburnmemory`` namespace: no namespace file, each distribution in its own room."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from repo_layout import PARTS, ROOT, own_prefixes, package_dir, project


def _src(part: str) -> Path:
    return package_dir(part) / "src" / "raeburnmemory"


@pytest.mark.parametrize("part", PARTS)
def test_no_distribution_owns_the_namespace(part: str) -> None:
    assert not (_src(part) / "__init__.py").exists(), (
        f"{_src(part) / '__init__.py'} would hide every other raeburnmemory distribution"
    )


@pytest.mark.parametrize("part", PARTS)
def test_each_distribution_holds_only_its_own_part(part: str) -> None:
    names = {path.name for path in _src(part).iterdir() if path.name != "__pycache__"}
    expected = {part, "memory_graph.py"} if part == "core" else {part}
    assert names == expected
    assert (_src(part) / part / "py.typed").is_file()
    assert (_src(part) / part / "__init__.py").is_file()


@pytest.mark.parametrize("part", PARTS)
def test_each_wheel_would_hold_only_its_own_files(part: str) -> None:
    wheel = pytest.importorskip("hatchling.builders.wheel")
    builder = wheel.WheelBuilder(str(package_dir(part)))
    files = [f.distribution_path for f in builder.recurse_included_files()]
    assert files
    assert [name for name in files if not name.startswith(own_prefixes(part))] == []


@pytest.mark.parametrize("part", PARTS)
def test_each_distribution_has_an_imports_test(part: str) -> None:
    assert (package_dir(part) / "tests" / f"test_{part}_imports.py").is_file()


def test_test_module_names_are_unique_across_the_repository() -> None:
    modules = [ROOT / "tests", *(package_dir(part) / "tests" for part in PARTS)]
    names = Counter(p.name for folder in modules for p in folder.glob("**/test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


@pytest.mark.parametrize("part", PARTS)
def test_every_entry_point_names_a_module_of_its_own_distribution(part: str) -> None:
    groups: dict[str, dict[str, str]] = project(f"raeburnmemory-{part}").get("entry-points", {})
    scripts: dict[str, str] = project(f"raeburnmemory-{part}").get("scripts", {})
    targets = [*scripts.values(), *(t for group in groups.values() for t in group.values())]
    for target in targets:
        module = target.split(":")[0].split(".")
        folder = package_dir(part) / "src" / Path(*module)
        assert folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file(), target
