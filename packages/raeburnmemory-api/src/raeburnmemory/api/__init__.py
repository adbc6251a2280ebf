"""raeburnmemory-api."""

__all__: list[str] = []
