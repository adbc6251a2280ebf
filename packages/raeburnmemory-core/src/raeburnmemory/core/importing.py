"""Importing an export back into a memory: the JSON Lines export or the node-link JSON.

:func:`import_file` tells the two apart by their content. Vectors in a JSON Lines file are
stored as they are when they were made by the encoder of the memory (same name and dimension),
so nothing is encoded again; otherwise, when asked with ``reembed=True`` and for node-link JSON
(which holds no vectors), prompts are encoded by the memory's encoder. Interactions are written
in batches, each all or nothing; links are made once every interaction is in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from raeburnmemory.core._node_link_read import NodeLinkFormatError, read_node_link
from raeburnmemory.core.encoders import same_encoder
from raeburnmemory.core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInteractionError,
    NotFoundError,
)
from raeburnmemory.core.jsonl import ExportFormatError, JsonlReader, is_jsonl_export
from raeburnmemory.core.model import EncoderInfo, Interaction, Link
from raeburnmemory.core.store import Store

if TYPE_CHECKING:
    from raeburnmemory.core.memory import MemoryGraph

__all__ = [
    "IMPORT_BATCH",
    "ON_CONFLICT",
    "ImportResult",
    "NodeLinkFormatError",
    "detect_export_format",
    "import_file",
]

#: Interactions written together (all or nothing) by :func:`import_file`.
IMPORT_BATCH = 1000
#: ``on_conflict`` values: raise at the first interaction stored with other content, or skip it.
ON_CONFLICT = ("error", "skip")

_Vector = npt.NDArray[np.float32]
#: ``(line or position, interaction, vector or None)``.
_Entry = tuple[int, Interaction, "_Vector | None"]
_NODE_LINK_KEYS = frozenset({"directed", "multigraph", "graph", "nodes", "edges"})
_FIRST_KEY = re.compile(rb'^\s*\{\s*"([^"\\]*)"')


@dataclass
class ImportResult:
    """What :func:`import_file` did.

    ``conflicts`` lists ``(where, message)`` for what ``on_conflict="skip"`` left out: ``where``
    is the line of a JSON Lines file, or the interaction's place (from 1) in node-link JSON (0
    for one of its links).
    """

    path: str
    format: Literal["jsonl", "node-link"]
    added: int = 0
    skipped: int = 0
    links: int = 0
    reembedded: bool = False
    conflicts: list[tuple[int, str]] = field(default_factory=list)


def detect_export_format(path: str | os.PathLike[str]) -> Literal["jsonl", "node-link"] | None:
    """``"jsonl"`` for a JSON Lines export (its header line), ``"node-link"`` for node-link JSON,
    ``None`` for anything else (such as JSON Lines of interactions without a header)."""
    with Path(path).expanduser().open("rb") as stream:
        first = stream.readline(1 << 16)
    if is_jsonl_export(first):
        return "jsonl"
    match = _FIRST_KEY.match(first)
    if match is not None and match.group(1).decode("utf-8", "replace") in _NODE_LINK_KEYS:
        return "node-link"
    return None


def _active_encoder(target: MemoryGraph | Store) -> EncoderInfo | None:
    """The encoder vectors written to ``target`` must come from (``None``: any, a new store)."""
    if isinstance(target, Store):
        return target.encoder_info()
    stored = target.store.encoder_info()
    if stored is not None:
        return stored
    return target.encoder_info  # the graph's encoder decides an empty store's vectors


def _reuse_vectors(
    path: Path, source: EncoderInfo | None, target: MemoryGraph | Store, reembed: bool | None
) -> bool:
    """Whether the file's vectors are stored as they are (else every prompt is encoded, which
    only a MemoryGraph can do)."""
    reuse = _vectors_fit(path, source, _active_encoder(target), reembed)
    if not reuse and isinstance(target, Store):
        raise ConfigurationError(
            f"{path}: its prompts must be encoded, which needs a MemoryGraph (which has an "
            "encoder), not a bare store; nothing was written"
        )
    return reuse


def _vectors_fit(
    path: Path, source: EncoderInfo | None, target: EncoderInfo | None, reembed: bool | None
) -> bool:
    """Whether vectors made by ``source`` may be stored as they are where ``target``'s are."""
    if reembed is True:
        return False
    if source is None:
        if reembed is False:
            raise ConfigurationError(
                f"{path}: the file holds no vectors, so reembed=False cannot be met; "
                "leave reembed unset to encode its prompts"
            )
        return False
    if target is None or same_encoder(source, target):
        return True
    if reembed is False:
        raise ConfigurationError(
            f"{path}: its vectors were made by {source.name!r} ({source.dim} dimensions) but "
            f"this memory's are made by {target.name!r} ({target.dim} dimensions); leave "
            "reembed unset or pass reembed=True to encode the prompts again"
        )
    return False


@contextmanager
def _writing(target: MemoryGraph | Store, *, direct: bool) -> Iterator[Store]:
    """The store, for writing vectors to ``direct``ly; a graph's in-memory state is then brought
    up to date afterwards (its vector index reloaded from the store on next use)."""
    if isinstance(target, Store):
        yield target
        return
    if not direct:  # every write goes through the graph itself
        yield target.store
        return
    with target._direct_writes() as store:
        yield store


@dataclass
class _Importer:
    """Writes batches of entries to the target, counting and (optionally) skipping conflicts."""

    target: MemoryGraph | Store
    store: Store
    result: ImportResult
    reuse: bool
    on_conflict: str

    def _encode_and_add(self, items: list[Interaction]) -> list[str]:
        if isinstance(self.target, Store):  # a line without a vector, in a file with vectors
            raise ConfigurationError(
                f"{self.result.path}: prompt {items[0].prompt_id!r} has no vector, and encoding "
                "it needs a MemoryGraph (which has an encoder), not a bare store"
            )
        return self.target.batch_add(items)

    def _add(self, entries: list[_Entry]) -> int:
        with_vectors = [(item, v) for _, item, v in entries if self.reuse and v is not None]
        without = [item for _, item, v in entries if not (self.reuse and v is not None)]
        added = 0
        if with_vectors:
            matrix = np.stack([v for _, v in with_vectors]).astype(np.float32)
            added += len(self.store.add([item for item, _ in with_vectors], matrix))
        if without:
            added += len(self._encode_and_add(without))
        return added

    def write(self, entries: list[_Entry]) -> None:
        """Write one batch, all or nothing; with ``on_conflict="skip"`` one by one on a refusal."""
        try:
            added = self._add(entries)
        except (ConflictError, InvalidInteractionError) as exc:
            if self.on_conflict == "error":
                where = next(
                    (n for n, item, _ in entries if repr(item.prompt_id) in str(exc)), None
                )
                place = self.result.path if where is None else f"{self.result.path}:{where}"
                raise type(exc)(f"{place}: {exc}") from None
            for entry in entries:
                try:
                    one = self._add([entry])
                except (ConflictError, InvalidInteractionError) as single:
                    self.result.conflicts.append((entry[0], str(single)))
                else:
                    self.result.added += one
                    self.result.skipped += 1 - one
            return
        self.result.added += added
        self.result.skipped += len(entries) - added

    def link(self, where: int, link: Link) -> None:
        """Make one caller-made link (a link between prompts that are not stored is refused)."""
        try:
            if isinstance(self.target, Store):
                self.store.link(link)
            else:
                self.target.link_prompts(link.source, link.target, link.relation)
        except (NotFoundError, InvalidInteractionError) as exc:
            message = f"link {link.source!r} -> {link.target!r}: {exc}"
            if self.on_conflict == "error":
                place = f"{self.result.path}:{where}" if where else self.result.path
                raise type(exc)(f"{place}: {message}") from None
            self.result.conflicts.append((where, message))
            return
        self.result.links += 1


def _batches(entries: Iterable[_Entry], size: int) -> Iterator[list[_Entry]]:
    batch: list[_Entry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run(
    importer: _Importer,
    entries: Iterable[_Entry],
    links: list[tuple[int, Link]],
    total: int,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    done = 0
    for batch in _batches(entries, batch_size):
        importer.write(batch)
        done += len(batch)
        if progress is not None:
            progress(done, max(total, done))
    for where, link in links:
        importer.link(where, link)
    if progress is not None and done == 0:
        progress(0, 0)


def import_file(
    target: MemoryGraph | Store,
    path: str | os.PathLike[str],
    *,
    reembed: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_conflict: Literal["error", "skip"] = "error",
    batch_size: int = IMPORT_BATCH,
) -> ImportResult:
    """Add the interactions and links of an export file to ``target`` (a MemoryGraph or a Store).

    The file is the JSON Lines export (:func:`~raeburnmemory.core.jsonl.write_jsonl`) or the
    node-link JSON of ``MemoryGraph.export``, told apart by content. Vectors of a JSON Lines file
    are kept when its header's encoder (name and dimension) is the target's, or the target holds
    no vectors yet and is a bare store; prompts are encoded by the graph's encoder when the
    encoders differ, with ``reembed=True``, and for node-link JSON. ``reembed=False`` refuses
    to encode (``ConfigurationError``). Interactions stored already with the same content are
    skipped; one with other content raises ``ConflictError`` (``on_conflict="error"``) or is
    left out and listed (``"skip"``). Each batch of ``batch_size`` is written all or nothing;
    ``progress(done, total)`` is called after each. A bad line raises ``JsonlFormatError`` and
    bad node-link JSON ``NodeLinkFormatError``, naming the file (and line); batches before a bad
    line stay written, so running the import again after a fix finishes it.
    """
    if on_conflict not in ON_CONFLICT:
        raise ConfigurationError(f"on_conflict must be 'error' or 'skip', not {on_conflict!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"batch_size must be a positive integer, not {batch_size!r}")
    if reembed not in (None, True, False):
        raise ConfigurationError(f"reembed must be True, False or None, not {reembed!r}")
    where = Path(path).expanduser()
    kind = detect_export_format(where)
    if kind is None:
        raise ExportFormatError(
            f"{where}: neither a raeburnmemory JSON Lines export (no header line) nor node-link "
            "JSON; interactions without a header are read by the command line's import"
        )
    result = ImportResult(str(where), kind)
    if kind == "node-link":
        items, found = read_node_link(where)
        _reuse_vectors(where, None, target, reembed)  # refuses reembed=False, and bare stores
        result.reembedded = True
        entries: Iterable[_Entry] = ((n, item, None) for n, item in enumerate(items, start=1))
        links = [(0, link) for link in found]
        with _writing(target, direct=False) as store:
            importer = _Importer(target, store, result, False, on_conflict)
            _run(importer, entries, links, len(items), batch_size, progress)
        return result
    with JsonlReader(where) as reader:
        header = reader.header
        reuse = _reuse_vectors(where, header.encoder, target, reembed)
        result.reembedded = not reuse
        pending: list[tuple[int, Link]] = []

        def read() -> Iterator[_Entry]:
            for record in reader:
                pending.extend((record.line, link) for link in record.links)
                yield record.line, record.interaction, record.vector

        with _writing(target, direct=reuse) as store:
            if reuse and header.encoder is not None and store.encoder_info() is None:
                store.set_encoder_info(header.encoder)
            importer = _Importer(target, store, result, reuse, on_conflict)
            _run(importer, read(), pending, header.interactions or 0, batch_size, progress)
    return result
