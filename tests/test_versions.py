"""One version for all eight distributions, exact sibling pins, and a lock that covers them."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import pytest
from packaging.utils import canonicalize_name
from repo_layout import (
    META,
    ROOT,
    distributions,
    is_sibling,
    project,
    pyproject_path,
    requirements,
)

LOCK = ROOT / "requirements.txt"


def _lockstep_version() -> str:
    version: str = project(META)["version"]
    return version


def _bump_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bump_version", ROOT / "scripts/bump_version.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("distribution", distributions())
def test_every_distribution_has_the_lockstep_version(distribution: str) -> None:
    assert project(distribution)["version"] == _lockstep_version()


@pytest.mark.parametrize("distribution", distributions())
def test_every_sibling_pin_is_exactly_the_lockstep_version(distribution: str) -> None:
    wrong = [
        f"{where}: {req}"
        for where, req in requirements(distribution)
        if is_sibling(req)
        and canonicalize_name(req.name) != canonicalize_name(distribution)
        and str(req.specifier) != f"=={_lockstep_version()}"
    ]
    assert not wrong, f"{pyproject_path(distribution)} pins siblings off {_lockstep_version()}"


@pytest.mark.parametrize("distribution", distributions())
def test_every_distribution_supports_the_same_pythons(distribution: str) -> None:
    table = project(distribution)
    assert table["requires-python"] == ">=3.10"
    classifiers = set(table["classifiers"])
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers


@pytest.mark.parametrize("distribution", distributions())
def test_every_distribution_ships_the_license(distribution: str) -> None:
    assert project(distribution)["license"] == "MIT"
    license_file = pyproject_path(distribution).parent / "LICENSE"
    assert license_file.read_text("utf-8") == (ROOT / "LICENSE").read_text("utf-8")


def test_the_lock_pins_every_third_party_dependency() -> None:
    pinned = {
        canonicalize_name(match.group(1))
        for match in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", LOCK.read_text("utf-8"), re.M)
    }
    missing = sorted(
        f"{distribution} {where}: {req.name}"
        for distribution in distributions()
        for where, req in requirements(distribution)
        if not is_sibling(req)
        and not where.startswith("extra 'test")  # test extras: test, test-browser, ...
        and where != "extra 'embeddings'"
        and canonicalize_name(req.name) not in pinned
    )
    assert not missing, "requirements.txt is out of date (python -m nox -s lock)"


def test_the_lock_installs_every_local_distribution() -> None:
    lines = LOCK.read_text("utf-8").splitlines()
    local = {line.split()[0] for line in lines if line.startswith("./packages/")}
    assert local == {f"./packages/{d}" for d in distributions() if d != META}


def test_bump_rewrites_every_version_and_sibling_pin() -> None:
    bump = _bump_script()
    for distribution in distributions():
        text = pyproject_path(distribution).read_text("utf-8")
        bumped = bump.bump_pyproject(text, "9.8.7")
        assert re.search(r'^version = "9\.8\.7"$', bumped, re.M)
        assert _lockstep_version() not in bumped.replace('python_version = "3.10"', "")
        assert bumped.count("==9.8.7") == text.count(f"=={_lockstep_version()}")


def test_bump_starts_a_changelog_section_from_unreleased() -> None:
    bump = _bump_script()
    text = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- a thing\n"
    bumped = bump.bump_changelog(text, "1.2.3", bump.dt.date(2026, 5, 4))
    assert bumped == (
        "# Changelog\n\n## [Unreleased]\n\n## [1.2.3] - 2026-05-04\n\n### Added\n\n- a thing\n"
    )
    assert bump.bump_changelog(bumped, "1.2.3", bump.dt.date(2026, 6, 1)) == bumped
