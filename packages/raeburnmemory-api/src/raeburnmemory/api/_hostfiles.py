"""Files that the worker processes of one host share about one store, in the temp folder."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["host_file"]


def host_file(kind: str, store_key: str, suffix: str) -> Path:
    """``<temp>/raeburnmemory-<kind>-<digest><suffix>``, one per user and store."""
    owner = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{owner}\0{store_key}".encode()).hexdigest()[:20]
    return Path(tempfile.gettempdir()) / f"raeburnmemory-{kind}-{digest}{suffix}"
