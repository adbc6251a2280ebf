"""Give all nine distributions one new version: ``python scripts/bump_version.py X.Y.Z``.

Rewrites the ``version`` of the root ``pyproject.toml`` and of every ``packages/*/pyproject.toml``,
every exact pin on a sibling distribution (``raeburnmemory-core==...``, with or without extras), and
starts the CHANGELOG.md section of the new version with what was under ``## [Unreleased]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.compile(r"^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?$")
PROJECT_VERSION = re.compile(r'^(version\s*=\s*")[^"]*(")', re.MULTILINE)
SIBLING_PIN = re.compile(r"(raeburnmemory(?:-[a-z]+)?(?:\[[^\]]*\])?)==[^\"',;\s]+")
UNRELEASED = "## [Unreleased]"


def pyprojects(root: Path = ROOT) -> list[Path]:
    """The root pyproject.toml and every distribution's, in a stable order."""
    return [root / "pyproject.toml", *sorted(root.glob("packages/*/pyproject.toml"))]


def bump_pyproject(text: str, version: str) -> str:
    """``text`` with its project version and every sibling pin set to ``version``."""
    text, count = PROJECT_VERSION.subn(rf"\g<1>{version}\g<2>", text, count=1)
    if count != 1:
        raise ValueError('no `version = "..."` line')
    return SIBLING_PIN.sub(rf"\g<1>=={version}", text)


def bump_changelog(text: str, version: str, today: dt.date) -> str:
    """Start ``## [version] - today`` with the Unreleased entries; unchanged if it exists."""
    if f"## [{version}]" in text:
        return text
    if UNRELEASED not in text:
        raise ValueError(f"no `{UNRELEASED}` section")
    heading = f"## [{version}] - {today.isoformat()}"
    return text.replace(UNRELEASED, f"{UNRELEASED}\n\n{heading}", 1)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, rewrite the files (all of them or none), and say what changed."""
    parser = argparse.ArgumentParser(description="Give all nine distributions one new version.")
    parser.add_argument("version", help="the new version, for example 0.2.0")
    parser.add_argument("--no-changelog", action="store_true", help="leave CHANGELOG.md as it is")
    args = parser.parse_args(argv)
    if not VERSION.match(args.version):
        parser.error(f"{args.version!r} is not a version like 1.2.3")

    rewritten: dict[Path, str] = {}
    try:
        for path in pyprojects():
            rewritten[path] = bump_pyproject(path.read_text("utf-8"), args.version)
        if not args.no_changelog:
            path = ROOT / "CHANGELOG.md"
            rewritten[path] = bump_changelog(path.read_text("utf-8"), args.version, dt.date.today())
    except ValueError as exc:
        parser.error(f"{path.relative_to(ROOT)}: {exc}")
    for path, text in rewritten.items():
        path.write_text(text, "utf-8")
        print(f"{path.relative_to(ROOT)}: {args.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
