"""raeburnmemory-sqlite."""

__all__: list[str] = []
