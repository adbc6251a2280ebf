"""raeburnmemory-qdrant."""

__all__: list[str] = []
