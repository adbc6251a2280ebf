"""Checks every distribution's tests make of its modules: what they export, what they import.

``modules_of("raeburnmemory.sqlite")`` finds a package's modules (public ones unless asked);
``check_exports`` imports one and checks its docstring and ``__all__``, and ``exports_test``
makes the test that checks them all; ``loaded_by`` runs an import in a fresh interpreter and says
which of the named heavy modules it pulled in.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["check_exports", "exports_test", "loaded_by", "modules_of"]


def modules_of(package: str, *, private: bool = False) -> list[str]:
    """``package`` and every module under it, sorted; those with a ``_`` part only if ``private``.

    ``__main__`` modules are left out: importing one runs its command.
    """
    root = importlib.import_module(package)
    found = [package]
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), f"{package}."):
        parts = info.name.split(".")
        if parts[-1] == "__main__":
            continue
        if private or not any(part.startswith("_") for part in parts):
            found.append(info.name)
    return sorted(found)


def check_exports(name: str) -> None:
    """Import ``name``; fail unless it has a docstring and every name in its ``__all__`` exists."""
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no docstring"
    for public in getattr(module, "__all__", []):
        assert getattr(module, public, None) is not None, f"{name}.{public} is listed but missing"


def exports_test(package: str) -> Callable[[str], None]:
    """A test, one case per public module of ``package``, that :func:`check_exports` it: give it
    a ``test_`` name in a test module (``test_public_names_exist = exports_test(...)``)."""
    import pytest

    @pytest.mark.parametrize("name", modules_of(package))
    def test(name: str) -> None:
        check_exports(name)

    return test


def loaded_by(
    statement: str, heavy: Iterable[str], *, env: Mapping[str, str] | None = None
) -> list[str]:
    """The modules among ``heavy`` (top-level names or dotted prefixes) that ``statement`` loads.

    ``statement`` runs in a fresh interpreter (this one's executable), with ``env`` added to
    this process's environment.
    """
    names = sorted(set(heavy))
    code = (
        f"import json, sys\n{statement}\n"
        f"names = {names!r}\n"
        "found = {m for m in sys.modules for n in names if m == n or m.startswith(n + '.')}\n"
        "print(json.dumps(sorted(found)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, f"{statement!r} failed:\n{done.stderr}"
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found
