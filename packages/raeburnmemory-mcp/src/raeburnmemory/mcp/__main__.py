"""``python -m raeburnmemory.mcp``: the same as the ``raeburnmemory-mcp`` command."""

import sys

from raeburnmemory.mcp.command import main

sys.exit(main(prog="python -m raeburnmemory.mcp"))
