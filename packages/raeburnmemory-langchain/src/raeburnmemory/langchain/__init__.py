"""raeburnmemory-langchain: raeburnmemory inside LangChain and LangGraph."""

__all__: list[str] = []
