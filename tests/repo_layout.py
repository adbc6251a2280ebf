"""Facts about the repository that the root tests share: where things are and what they declare."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("core", "sqlite", "postgres", "qdrant", "api", "cli", "mcp", "langchain")
META = "raeburnmemory"


def package_dir(part: str) -> Path:
    """The folder of the ``raeburnmemory-<part>`` distribution."""
    return ROOT / "packages" / f"raeburnmemory-{part}"


def pyproject_path(distribution: str) -> Path:
    """The pyproject.toml of a distribution (``raeburnmemory`` is the root one)."""
    if distribution == META:
        return ROOT / "pyproject.toml"
    return package_dir(distribution.removeprefix(f"{META}-")) / "pyproject.toml"


def distributions() -> list[str]:
    """All nine distribution names, the meta-distribution first."""
    return [META, *(f"{META}-{part}" for part in PARTS)]


def project(distribution: str) -> dict[str, Any]:
    """The ``[project]`` table of a distribution."""
    with pyproject_path(distribution).open("rb") as handle:
        table: dict[str, Any] = tomllib.load(handle)["project"]
    return table


def requirements(distribution: str) -> Iterator[tuple[str, Requirement]]:
    """Every requirement a distribution declares, with where (``dependencies`` or an extra)."""
    table = project(distribution)
    for line in table.get("dependencies", []):
        yield "dependencies", Requirement(line)
    for extra, lines in table.get("optional-dependencies", {}).items():
        for line in lines:
            yield f"extra {extra!r}", Requirement(line)


def is_sibling(requirement: Requirement) -> bool:
    """Whether a requirement names one of the project's own distributions."""
    return canonicalize_name(requirement.name) in {canonicalize_name(d) for d in distributions()}


def own_prefixes(part: str) -> tuple[str, ...]:
    """The paths, inside the namespace, that belong to ``raeburnmemory-<part>``."""
    extra = ("raeburnmemory/memory_graph.py",) if part == "core" else ()
    return (f"raeburnmemory/{part}/", *extra)
