"""raeburnmemory-postgres."""

__all__: list[str] = []
