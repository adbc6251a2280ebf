"""Tool descriptions from a file, to replace the built-in ones a model reads.

The file maps tool names to descriptions, as JSON (``{"search_memory": "..."}``) or TOML
(``search_memory = "..."``), chosen by the ``.toml`` suffix. Tools it does not name keep their
built-in description.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from raeburnmemory.core.errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["load_descriptions"]


def _parse(path: Path) -> Any:
    try:
        raw = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path}: not UTF-8 text") from None
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not valid JSON: {exc}") from None


def load_descriptions(path: str | Path, known: Collection[str]) -> dict[str, str]:
    """The descriptions in ``path``, checked against the ``known`` tool names.

    Raises ``ConfigurationError`` naming the file and what is wrong: it cannot be read or
    parsed, it is not a table of strings, or it names a tool that does not exist.
    """
    path = Path(path).expanduser()
    data = _parse(path)
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: must map tool names to descriptions")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigurationError(
            f"{path}: no tool named {', '.join(map(repr, unknown))}; "
            f"the tools are {', '.join(sorted(known))}"
        )
    for name, text in data.items():
        if not isinstance(text, str) or not text.strip():
            raise ConfigurationError(f"{path}: the description of {name!r} must be non-empty text")
    return {name: text.strip() for name, text in data.items()}
