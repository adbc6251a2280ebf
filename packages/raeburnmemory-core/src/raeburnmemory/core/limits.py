"""Limits shared by the library, the command line and the HTTP API (a module light to import)."""

from __future__ import annotations

__all__ = ["MAX_TOP_K"]

#: The most hits one search returns: ``top_k`` is from 1 to this in the library, the command
#: line and the HTTP API alike.
MAX_TOP_K = 1000
