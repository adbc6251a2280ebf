"""The pytest plugin every raeburnmemory distribution's tests share (registered as ``pytest11``).

Fixtures:

* ``offline_home``: a temporary home with ``RAEBURN_DB_PATH`` inside it and the offline encoder
  selected, so nothing touches the real home folder or loads a model.

It also loads a hypothesis profile whose default number of examples follows
``RAEBURN_TEST_EXAMPLES`` (see :mod:`raeburnmemory.core.testing.examples`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from raeburnmemory.core.testing.examples import examples

__all__ = ["offline_home"]

try:
    from hypothesis import settings as _settings
except ImportError:  # pragma: no cover - hypothesis comes with every test extra
    pass
else:
    _settings.register_profile("raeburnmemory", max_examples=examples(100))
    _settings.load_profile("raeburnmemory")


@pytest.fixture
def offline_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME with ``RAEBURN_DB_PATH`` in it and ``RAEBURN_EMBED_MODEL=none``."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RAEBURN_DB_PATH", str(home / ".raeburnbrain" / "graph.json"))
    monkeypatch.setenv("RAEBURN_EMBED_MODEL", "none")
    return home
