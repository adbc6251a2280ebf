"""The JSON store's map, ``graph.json.map.json``: the index of a snapshot and its vectors.

It lists the prompt id of each row of the vectors file and holds the generation, the vectors
epoch (raised when every vector is replaced), the size and CRC-32 of ``graph.json``, the CRC-32
of the rows of the vectors file the map lists (format version 2; version 1 recorded the CRC-32 of
the whole file, and maps older still none) and an
index of the snapshot's interactions (ids, sessions, agents, timestamps and where each node pair
sits), so that opening a store reads no node until one is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raeburnmemory.core._fsync import fsync_file
from raeburnmemory.core.errors import CorruptStoreError
from raeburnmemory.core.json_text import dumps, loads

__all__ = ["MapFile", "read_map", "write_map"]

_COLUMNS = ("prompts", "responses", "sessions", "agents", "stamps")


class MapFile:
    """The content of ``graph.json.map.json``."""

    __slots__ = (
        "crc",
        "dim",
        "encoder",
        "epoch",
        "fmt",
        "generation",
        "ids",
        "size",
        "snapshot_index",
        "vectors_crc",
        "vectors_rows_crc",
    )

    def __init__(
        self,
        generation: int,
        epoch: int,
        fmt: str | None,
        dim: int | None,
        ids: list[str],
        crc: int | None,
        size: int | None,
        *,
        encoder: dict[str, Any] | None = None,
        snapshot_index: dict[str, Any] | None = None,
        vectors_crc: int | None = None,
        vectors_rows_crc: int | None = None,
    ) -> None:
        self.generation = generation
        self.epoch = epoch
        self.fmt = fmt
        self.dim = dim
        self.ids = ids
        self.crc = crc
        self.size = size
        self.encoder = encoder
        self.snapshot_index = snapshot_index
        self.vectors_crc = vectors_crc
        self.vectors_rows_crc = vectors_rows_crc

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to the file."""
        return {
            "generation": self.generation,
            "epoch": self.epoch,
            "vectors": self.fmt,
            "dim": self.dim,
            "graph_crc32": self.crc,
            "graph_size": self.size,
            "vectors_crc32": self.vectors_crc,
            "vectors_rows_crc32": self.vectors_rows_crc,
            "encoder": self.encoder,
            "ids": self.ids,
            "index": self.snapshot_index,
        }


def write_map(path: Path, content: MapFile, *, sync: bool = True) -> None:
    """Write the map, flushed to disk (with ``sync=False`` the caller forces it there)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(dumps(content.to_json()))
        if sync:
            fsync_file(fh)


def read_map(path: Path) -> MapFile:
    """Read and check the map; ``CorruptStoreError`` names the file when it cannot be used."""
    try:
        data = loads(path.read_bytes())
    except FileNotFoundError:
        raise CorruptStoreError(path, "the vector map is missing") from None
    except ValueError as exc:
        raise CorruptStoreError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CorruptStoreError(path, "not a vector map")
    generation, epoch, fmt = data.get("generation"), data.get("epoch", 0), data.get("vectors")
    dim, ids = data.get("dim"), data.get("ids")
    crc, size = data.get("graph_crc32"), data.get("graph_size")
    vectors_crc, rows_crc = data.get("vectors_crc32"), data.get("vectors_rows_crc32")
    valid = (
        isinstance(generation, int)
        and isinstance(epoch, int)
        and fmt in (None, "faiss", "npy")
        and (dim is None or isinstance(dim, int))
        and isinstance(ids, list)
        and _all_of(str, ids)
        and (crc is None or isinstance(crc, int))
        and (size is None or isinstance(size, int))
        and (vectors_crc is None or isinstance(vectors_crc, int))
        and (rows_crc is None or isinstance(rows_crc, int))
    )
    if not valid or not isinstance(generation, int) or not isinstance(ids, list):
        raise CorruptStoreError(path, "malformed vector map")
    if len(set(ids)) != len(ids):
        raise CorruptStoreError(path, "a prompt id appears twice")
    encoder, index = data.get("encoder"), data.get("index")
    if encoder is not None and not (
        isinstance(encoder, dict)
        and isinstance(encoder.get("name"), str)
        and isinstance(encoder.get("dim"), int)
    ):
        raise CorruptStoreError(path, "malformed encoder record")
    if index is not None and not _index_ok(index):
        raise CorruptStoreError(path, "malformed snapshot index")
    return MapFile(
        generation,
        epoch,
        fmt,
        dim,
        ids,
        crc,
        size,
        encoder=encoder,
        snapshot_index=index,
        vectors_crc=vectors_crc if isinstance(vectors_crc, int) else None,
        vectors_rows_crc=rows_crc if isinstance(rows_crc, int) else None,
    )


def _all_of(kind: type, values: list[Any]) -> bool:
    """Whether every value has exactly this type (checked in C, for long columns)."""
    return set(map(type, values)) <= {kind}


def _index_ok(index: Any) -> bool:
    if not isinstance(index, dict):
        return False
    columns: list[list[Any]] = []
    for name in _COLUMNS:
        column = index.get(name)
        if not isinstance(column, list):
            return False
        columns.append(column)
    count = len(columns[0])
    if any(len(column) != count for column in columns):
        return False
    # a prompt recorded without a response has null in the responses column
    if not all(_all_of(str, column) for n, column in enumerate(columns) if n != 1):
        return False
    if not set(map(type, columns[1])) <= {str, type(None)}:
        return False
    spans = index.get("spans")
    if not isinstance(spans, list) or len(spans) != 2 * count:
        return False
    if not _all_of(int, spans):
        return False
    times = index.get("times")
    if times is not None and not (
        isinstance(times, list) and len(times) == count and _all_of(float, times)
    ):
        return False
    named = (index.get("agent_nodes"), index.get("agent_names"))
    if not all(isinstance(table, dict) for table in named):
        return False
    links = index.get("links")
    return isinstance(links, list) and all(
        isinstance(link, list) and len(link) == 3 and all(type(v) is str for v in link)
        for link in links
    )
