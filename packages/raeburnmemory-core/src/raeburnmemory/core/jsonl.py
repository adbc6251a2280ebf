"""The JSON Lines export: a whole memory, one interaction a line, with its prompt vector.

The first line is a header::

    {"format": "raeburnmemory-jsonl", "version": 1,
     "encoder": {"name": "raeburn-hashing-384", "dim": 384}, "interactions": 2, "links": 1}

``encoder`` is ``null`` when the memory holds no vectors; ``interactions`` and ``links`` are the
counts when the file was begun (for progress; a store written meanwhile may differ). Every other
line is one interaction, in the order it was stored, in the shape ``MemoryGraph.batch_add``
takes plus its caller-made links and its vector::

    {"prompt": {"id": "p1", "text": "Hello?"}, "response": {"id": "r1", "text": "Hi!"},
     "agent": {"id": "a1", "name": "Greeter"}, "session_id": "s1",
     "timestamp": "2025-01-06T09:00:00+00:00", "metadata": {},
     "links": [{"target": "p2", "relation": "related_to"}], "vector": "AACAPwAAAAA..."}

``vector`` is the base64 of the prompt vector's ``dim`` little-endian float32 values (``null``
when the prompt has none; ``response`` is ``null`` for a prompt recorded without a response);
extra attributes of the prompt, response and agent sit beside their
``id``. Blank lines are skipped. A reader refuses a version newer than :data:`FORMAT_VERSION`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from raeburnmemory.core._export_file import atomic_text_file, refuse_store_file
from raeburnmemory.core.errors import InvalidInteractionError, RaeburnMemoryError
from raeburnmemory.core.json_text import dumps
from raeburnmemory.core.model import EncoderInfo, Interaction, Link, utc_now
from raeburnmemory.core.records import interaction_from_mapping
from raeburnmemory.core.store import Store

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ExportFormatError",
    "JsonlFormatError",
    "JsonlHeader",
    "JsonlReader",
    "JsonlRecord",
    "decode_vector",
    "encode_vector",
    "interaction_line",
    "is_jsonl_export",
    "iter_jsonl",
    "read_jsonl",
    "write_jsonl",
]

#: The ``format`` of the header line.
FORMAT_NAME = "raeburnmemory-jsonl"
#: The newest version this library writes and reads.
FORMAT_VERSION = 1

_LINE_KEYS = frozenset(
    {
        "prompt",
        "response",
        "agent",
        "session_id",
        "timestamp",
        "metadata",
        "links",
        "vector",
        "expires_at",
    }
)
_VECTOR_DTYPE = np.dtype("<f4")


class ExportFormatError(RaeburnMemoryError, ValueError):
    """A file cannot be read as an export; the message names the file (and the place in it)."""


class JsonlFormatError(ExportFormatError):
    """A JSON Lines export cannot be read; the message names the file and the line."""

    def __init__(self, path: object, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class JsonlHeader:
    """The first line of an export: its version, the encoder of its vectors, its counts."""

    version: int = FORMAT_VERSION
    encoder: EncoderInfo | None = None
    interactions: int | None = None
    links: int | None = None

    def to_line(self) -> str:
        """The header as one line of JSON (without the newline)."""
        encoder = (
            None if self.encoder is None else {"name": self.encoder.name, "dim": self.encoder.dim}
        )
        return dumps(
            {
                "format": FORMAT_NAME,
                "version": self.version,
                "encoder": encoder,
                "interactions": self.interactions,
                "links": self.links,
            }
        )


@dataclass(frozen=True)
class JsonlRecord:
    """One interaction line: the interaction, the links it starts and its vector (or ``None``)."""

    line: int
    interaction: Interaction
    links: list[Link] = field(default_factory=list)
    vector: npt.NDArray[np.float32] | None = None


def encode_vector(vector: npt.ArrayLike) -> str:
    """The base64 text of a vector's little-endian float32 values."""
    return base64.b64encode(np.asarray(vector, dtype=_VECTOR_DTYPE).tobytes()).decode("ascii")


def decode_vector(text: str, dim: int) -> npt.NDArray[np.float32]:
    """The float32 vector of :func:`encode_vector`'s text; ``ValueError`` says what is wrong."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("the vector is not valid base64") from None
    if len(raw) != 4 * dim:
        raise ValueError(
            f"the vector has {len(raw) / 4:g} float32 values, but the header's encoder has "
            f"{dim} dimensions"
        )
    vector = np.frombuffer(raw, dtype=_VECTOR_DTYPE).astype(np.float32)
    if not np.all(np.isfinite(vector)):
        raise ValueError("the vector holds NaN or infinite values")
    return vector


def interaction_line(
    item: Interaction, links: list[Link], vector: npt.ArrayLike | None
) -> dict[str, Any]:
    """The JSON object of one interaction line (see the module's description)."""
    return {
        "prompt": {**item.prompt_attrs, "id": item.prompt_id, "text": item.prompt_text},
        "response": (
            {**item.response_attrs, "id": item.response_id, "text": item.response_text}
            if item.has_response
            else None
        ),
        "agent": {**item.agent_attrs, "id": item.agent_id, "name": item.agent_name},
        "session_id": item.session_id,
        "timestamp": item.timestamp.isoformat(),
        "metadata": dict(item.metadata),
        "links": [{"target": link.target, "relation": link.relation} for link in links],
        "vector": None if vector is None else encode_vector(vector),
        **({} if item.expires_at is None else {"expires_at": item.expires_at.isoformat()}),
    }


def _store_of(source: MemoryGraph | Store) -> Store:
    if isinstance(source, Store):
        return source
    source.sync()  # other writers' changes, and a persistent index reconciled
    return source.store


def iter_jsonl(
    source: MemoryGraph | Store, *, progress: Callable[[int, int], None] | None = None
) -> Iterator[str]:
    """The lines of the JSON Lines export of ``source`` (a MemoryGraph or a Store), each ending
    with a newline: the header, then every interaction in the order it was stored.

    Interactions are streamed from the store; the vectors are read once, when the first line is
    asked for (the store's ``load_vectors``). ``progress(done, total)`` is called every 1,000
    interactions and at the end.
    """
    store = _store_of(source)
    now = utc_now()
    hidden = set(store.expired_ids(now))
    stored = store.load_vectors()
    rows = {pid: row for row, pid in enumerate(stored.ids)}
    outgoing: dict[str, list[Link]] = {}
    for link in store.links():
        if link.source not in hidden and link.target not in hidden:
            outgoing.setdefault(link.source, []).append(link)
    total = store.count() - len(hidden)
    links = sum(map(len, outgoing.values()))
    yield JsonlHeader(FORMAT_VERSION, store.encoder_info(), total, links).to_line() + "\n"
    done = 0
    for item in store.iter_interactions():
        if item.is_expired(now):
            continue
        row = rows.get(item.prompt_id)
        vector = None if row is None else stored.vectors[row]
        yield dumps(interaction_line(item, outgoing.get(item.prompt_id, []), vector)) + "\n"
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(done, max(total, done))
    if progress is not None:
        progress(done, max(total, done))


def write_jsonl(
    source: MemoryGraph | Store,
    path: str | os.PathLike[str],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write every interaction of ``source`` (a MemoryGraph or a Store) to ``path`` as JSON Lines.

    The lines are those of :func:`iter_jsonl`. The file appears whole or not at all, replacing a
    file at ``path``; one of the store's own files (or its vector index's) raises
    ``ExportTargetError`` and nothing is written. Returns how many interactions were written.
    """
    target = Path(path).expanduser()
    if isinstance(source, Store):
        refuse_store_file(target, source.own_files(), source.location)
    else:
        source.check_export_target(target)
    written = -1  # the header
    with atomic_text_file(target) as out:
        for line in iter_jsonl(source, progress=progress):
            out.write(line)
            written += 1
    return written


def _header(path: Path, text: str) -> JsonlHeader:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise JsonlFormatError(path, 1, f"the header is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise JsonlFormatError(
            path, 1, f"not a raeburnmemory JSON Lines export (no {FORMAT_NAME!r} header line)"
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise JsonlFormatError(path, 1, f"the format version {version!r} is not a version number")
    if version > FORMAT_VERSION:
        raise JsonlFormatError(
            path,
            1,
            f"the file is format version {version}, written by a newer raeburnmemory; this one "
            f"reads version {FORMAT_VERSION} and older: upgrade raeburnmemory to import it",
        )
    encoder = data.get("encoder")
    info: EncoderInfo | None = None
    if encoder is not None:
        name = encoder.get("name") if isinstance(encoder, dict) else None
        dim = encoder.get("dim") if isinstance(encoder, dict) else None
        if (
            not isinstance(name, str)
            or isinstance(dim, bool)
            or not isinstance(dim, int)
            or dim < 1
        ):
            raise JsonlFormatError(
                path, 1, 'the header\'s encoder must be {"name": text, "dim": a positive integer}'
            )
        info = EncoderInfo(name, dim)
    counts = [data.get(key) for key in ("interactions", "links")]
    for key, count in zip(("interactions", "links"), counts, strict=True):
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise JsonlFormatError(path, 1, f"the header's {key!r} must be a count")
    return JsonlHeader(version, info, counts[0], counts[1])


def _links(source: str, value: Any) -> list[Link]:
    if not isinstance(value, list):
        raise ValueError('\'links\' must be a list of {"target", "relation"} objects')
    links = []
    for entry in value:
        target = entry.get("target") if isinstance(entry, dict) else None
        relation = entry.get("relation", "related_to") if isinstance(entry, dict) else None
        if not isinstance(target, str) or not isinstance(relation, str):
            raise ValueError('each link must be {"target": prompt id, "relation": text}')
        links.append(Link(source, target, relation))
    return links


def _record(number: int, text: str, header: JsonlHeader) -> JsonlRecord:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, found {type(data).__name__}")
    unknown = sorted(set(data) - _LINE_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))}")
    nested = {key: data[key] for key in _LINE_KEYS - {"links", "vector"} if key in data}
    try:
        item = interaction_from_mapping(nested, 0)
    except InvalidInteractionError as exc:
        raise ValueError(str(exc).removeprefix("item 0: ")) from None
    links = _links(item.prompt_id, data.get("links") or [])
    encoded = data.get("vector")
    vector = None
    if encoded is not None:
        if header.encoder is None:
            raise ValueError("the line has a vector but the header names no encoder")
        if not isinstance(encoded, str):
            raise ValueError("the vector must be base64 text")
        vector = decode_vector(encoded, header.encoder.dim)
    return JsonlRecord(number, item, links, vector)


class JsonlReader:
    """An open JSON Lines export: :attr:`header`, then its records by iteration.

    Use it as a context manager. Each bad line raises :class:`JsonlFormatError` naming the file
    and the line number when iteration reaches it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._stream: IO[bytes] = self.path.open("rb")
        try:
            first = self._stream.readline()
            self.header = _header(self.path, self._decode(1, first))
        except BaseException:
            self._stream.close()
            raise

    def _decode(self, number: int, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonlFormatError(self.path, number, "not UTF-8 text") from None

    def __iter__(self) -> Iterator[JsonlRecord]:
        for number, raw in enumerate(self._stream, start=2):
            text = self._decode(number, raw)
            if not text.strip():
                continue
            try:
                yield _record(number, text, self.header)
            except ValueError as exc:  # JSON errors, bad fields, bad vectors
                raise JsonlFormatError(self.path, number, str(exc)) from None

    def close(self) -> None:
        """Close the file."""
        self._stream.close()

    def __enter__(self) -> JsonlReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_jsonl(path: str | os.PathLike[str]) -> JsonlReader:
    """Open a JSON Lines export for reading; its header is read (and checked) at once.

    A missing file raises ``FileNotFoundError``; a file that is not an export, or of a newer
    format version, raises :class:`JsonlFormatError` naming it.
    """
    return JsonlReader(path)


def is_jsonl_export(first_line: bytes | str) -> bool:
    """Whether the first line of a file is the header of a JSON Lines export."""
    try:
        data = json.loads(first_line)
    except ValueError:
        return False
    return isinstance(data, Mapping) and data.get("format") == FORMAT_NAME
