"""The versions of the raeburnmemory distributions installed beside the command."""

from __future__ import annotations

__all__ = ["installed_versions", "version_lines"]

_PREFIX = "raeburnmemory"


def installed_versions() -> dict[str, str]:
    """Every installed ``raeburnmemory`` / ``raeburnmemory-*`` distribution and its version."""
    from importlib.metadata import distributions  # slow to import: only for --version

    found: dict[str, str] = {}
    for dist in distributions():
        name = (dist.metadata["Name"] or "").strip()
        canonical = name.lower().replace("_", "-").replace(".", "-")
        if canonical == _PREFIX or canonical.startswith(_PREFIX + "-"):
            found.setdefault(canonical, dist.version)
    return dict(sorted(found.items()))


def version_lines() -> list[str]:
    """What ``--version`` prints: the lockstep version, then each distribution's own."""
    versions = installed_versions()
    distinct = sorted(set(versions.values()))
    if len(distinct) == 1:
        head = f"raeburnmemory {distinct[0]}"
    else:
        head = "raeburnmemory: the installed distributions disagree on the version; "
        head += "reinstall them together"
    return [head, *(f"  {name} {version}" for name, version in versions.items())]
