"""The contract every storage backend meets.

A store is the durable source of truth of a memory graph: interactions, caller-made links,
prompt vectors and the name and dimension of the encoder that made them. ``MemoryGraph`` keeps
no state a store does not have, so several processes (or hosts) on one store see one graph.

Backends subclass :class:`Store` and register the class under the entry-point group
``raeburnmemory.storage``. ``raeburnmemory.core.testing`` holds the tests every store must pass.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from raeburnmemory.core.errors import ConfigurationError, UnsupportedSearchError
from raeburnmemory.core.limits import check_records
from raeburnmemory.core.listing import ListQuery, Position, select_page
from raeburnmemory.core.model import (
    Agent,
    EncoderInfo,
    Interaction,
    Link,
    SearchFilter,
    VectorPayload,
)
from raeburnmemory.core.sessions import SessionPosition, SessionSummary, summarize

__all__ = [
    "VECTOR_BLOCK_ROWS",
    "ChangeKind",
    "Matrix",
    "OpenRequest",
    "ScoredIds",
    "Store",
    "StoreChanges",
    "StoredVectors",
    "VectorBlocks",
    "WriteMode",
]

#: A 2-D float32 array, one normalized vector a row.
Matrix = npt.NDArray[np.float32]
#: Search results: ``(prompt id, score)`` pairs, best first.
ScoredIds = list[tuple[str, float]]


#: Rows of each block :meth:`Store.vector_blocks` hands over, unless asked for another size.
VECTOR_BLOCK_ROWS = 8192

_S = TypeVar("_S", bound="Store")


def _empty_matrix() -> Matrix:
    return np.zeros((0, 0), dtype=np.float32)


@dataclass
class StoredVectors:
    """Prompt vectors with their ids and filter payloads, row for row."""

    ids: list[str] = field(default_factory=list)
    vectors: Matrix = field(default_factory=_empty_matrix)
    payloads: list[VectorPayload] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class VectorBlocks:
    """Every stored prompt vector, a block of rows at a time (see :meth:`Store.vector_blocks`).

    ``count`` is how many rows the blocks hold in all, known before the first block is read, so
    an index can make room for them once.
    """

    count: int
    blocks: Iterator[StoredVectors]

    def __iter__(self) -> Iterator[StoredVectors]:
        return self.blocks


def _slices(stored: StoredVectors, rows: int) -> Iterator[StoredVectors]:
    """``stored`` in blocks of at most ``rows`` rows (views of its matrix, no copy)."""
    for start in range(0, len(stored), rows):
        stop = start + rows
        yield StoredVectors(
            stored.ids[start:stop], stored.vectors[start:stop], stored.payloads[start:stop]
        )


@dataclass
class StoreChanges:
    """What other writers changed since the last :meth:`Store.refresh`.

    ``reset`` means the changes cannot be told one by one (for example the store was compacted
    by another process): reload everything with :meth:`Store.load_vectors`.
    """

    added: StoredVectors = field(default_factory=StoredVectors)
    removed: list[str] = field(default_factory=list)
    reset: bool = False

    def __bool__(self) -> bool:
        return self.reset or bool(self.added.ids) or bool(self.removed)


@dataclass(frozen=True)
class OpenRequest:
    """What :meth:`Store.open` was asked, as a backend's :meth:`Store._open_from` receives it."""

    location: str | None
    """Where the store is (``None``: the backend's default)."""
    create: bool = True
    """Whether a store that does not exist is created (else ``StoreNotFoundError``)."""
    vector_backend: str | None = None
    """One of the store's :attr:`Store.native_vector_backends`, or ``None``."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """The keyword options of :attr:`Store.option_names` the caller gave."""


@dataclass(frozen=True)
class WriteMode:
    """How :meth:`Store.add` or :meth:`Store.replace` asks a backend to write checked records."""

    replace: bool = False
    """Each interaction takes the place of its prompt's stored one (:meth:`Store.replace`)."""
    skip_conflicts: bool = False
    """Conflicting items are left out instead of refusing the batch (``add``)."""
    rewrite: bool = False
    """A prompt stored with the same content is written again (``replace``)."""


class ChangeKind(str, Enum):
    """What a change feed says happened to a prompt, in every backend's Python code.

    How a backend writes it down is its own (its change rows are data other processes read).
    """

    ADD = "add"
    """The prompt was added."""
    DELETE = "delete"
    """The prompt was deleted."""
    RESET = "reset"
    """Every vector was replaced: readers start over."""


class Store(ABC):
    """Durable storage of a memory graph. Every write is durable when the call returns."""

    #: The name the backend is registered under (``storage_backend=...``).
    name: ClassVar[str]
    #: Keyword options of ``MemoryGraph(**options)`` this store understands.
    option_names: ClassVar[frozenset[str]] = frozenset()
    #: Vector backends the store runs itself, inside its database (``"sqlite-vec"``, ...).
    native_vector_backends: ClassVar[tuple[str, ...]] = ()
    #: The vector backend used when the caller names none; ``None`` lets MemoryGraph choose.
    default_vector_backend: ClassVar[str | None] = None
    #: Whether :meth:`keyword_search` works.
    supports_keyword_search: ClassVar[bool] = False
    #: Whether :meth:`vector_search` and :meth:`keyword_search` evaluate a filter's metadata
    #: part (``SearchFilter.where``) themselves; otherwise they are given the ids that pass it
    #: (``SearchFilter.prompt_ids``, from :meth:`matching_ids`) and must keep to those.
    searches_filter_metadata: ClassVar[bool] = False

    #: Where the store lives, for messages: a file path or a redacted URL.
    location: str

    @classmethod
    def open(
        cls: type[_S],
        location: str | None,
        *,
        create: bool = True,
        vector_backend: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> _S:
        """Open the store at ``location`` (``None``: the backend's default).

        With ``create=False`` a store that does not exist raises ``StoreNotFoundError``.
        ``vector_backend`` is given when it is one of :attr:`native_vector_backends`. A backend
        opens itself in :meth:`_open_from`.
        """
        return cls._open_from(OpenRequest(location, create, vector_backend, dict(options or {})))

    @classmethod
    def _open_from(cls: type[_S], request: OpenRequest) -> _S:
        """Open the store as :meth:`open` was asked; what each backend defines (unless it
        defines :meth:`open` itself)."""
        raise NotImplementedError(f"{cls.__name__} does not define _open_from()")

    def _started(self: _S, start: Callable[[], object]) -> _S:
        """Run ``start``, the last steps of opening this object; if it fails, close the store
        before the error goes on. Returns the store."""
        try:
            start()
        except BaseException:
            self.close()
            raise
        return self

    def __enter__(self: _S) -> _S:
        """Use the store in a ``with`` block; it is closed at the end."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    # -- encoder -----------------------------------------------------------------------------

    @abstractmethod
    def encoder_info(self) -> EncoderInfo | None:
        """The encoder the stored vectors were made with, or ``None`` before the first one."""

    @abstractmethod
    def set_encoder_info(self, info: EncoderInfo) -> None:
        """Record the encoder of the vectors (only while the store holds no vectors)."""

    # -- writes ------------------------------------------------------------------------------

    def add(
        self,
        interactions: Sequence[Interaction],
        vectors: Matrix | None,
        *,
        skip_conflicts: bool = False,
    ) -> list[str]:
        """Durably record interactions and their prompt vectors (row for row), all or nothing.

        An interaction whose prompt id is stored with the same content is skipped; one with
        different content raises ``ConflictError`` and nothing is written. So does a response id
        that belongs to another prompt. With ``skip_conflicts`` those items are left out and the
        rest is written (:func:`~raeburnmemory.core.checks.positions_to_write`). Returns the
        prompt ids newly added, in order.
        """
        mode = WriteMode(skip_conflicts=skip_conflicts)
        return self._check_and_write(interactions, vectors, mode)

    def replace(
        self,
        interactions: Sequence[Interaction],
        vectors: Matrix | None,
        *,
        rewrite: bool = False,
    ) -> list[str]:
        """Durably make each prompt hold exactly its interaction, in one step, all or nothing.

        A stored prompt with other content gets the new texts, ids, metadata, time and vector
        (its caller-made links are kept); an unknown prompt is added; one stored with the same
        content is left alone, or with ``rewrite`` written again (its metadata, attributes or
        time may be new). Other processes' :meth:`refresh` reports a replaced prompt as
        removed and added. A response id of another prompt, or a prompt id given twice with
        different content, raises ``ConflictError`` (:func:`~raeburnmemory.core.checks.
        positions_to_replace`). Returns the prompt ids written, in order.
        """
        mode = WriteMode(replace=True, rewrite=rewrite)
        return self._check_and_write(interactions, vectors, mode)

    def _check_and_write(
        self, interactions: Sequence[Interaction], vectors: Matrix | None, mode: WriteMode
    ) -> list[str]:
        """Check the records and their vectors (shape, limits), then write them with
        :meth:`_write_checked`; nothing to write is nothing done."""
        from raeburnmemory.core.checks import vector_matrix  # it imports this module

        items = list(interactions)
        if not items:
            return []
        matrix = vector_matrix(vectors, len(items))
        check_records(items, matrix)
        return self._write_checked(items, matrix, mode)

    def _write_checked(
        self, items: list[Interaction], matrix: Matrix | None, mode: WriteMode
    ) -> list[str]:
        """Durably write records :meth:`add` or :meth:`replace` checked, as ``mode`` says, all or
        nothing: the part of a write each backend defines. Returns the prompt ids written."""
        what = "replace" if mode.replace else "add"
        raise ConfigurationError(f"the {self.name} store cannot {what} interactions")

    @abstractmethod
    def link(self, link: Link) -> None:
        """Durably record a caller-made edge between two stored prompts (``NotFoundError``)."""

    @abstractmethod
    def delete(self, prompt_ids: Sequence[str]) -> list[str]:
        """Durably remove interactions with their vectors and links; returns the ids removed."""

    @abstractmethod
    def replace_vectors(
        self, batches: Iterable[tuple[list[str], Matrix]], info: EncoderInfo
    ) -> None:
        """Swap every prompt vector for new ones made by encoder ``info``, all or nothing."""

    # -- reads -------------------------------------------------------------------------------

    @abstractmethod
    def get(self, prompt_id: str) -> Interaction | None:
        """The interaction of a prompt, or ``None``."""

    def get_many(self, prompt_ids: Sequence[str]) -> list[Interaction]:
        """The interactions of the prompts that exist, in the order asked."""
        found = (self.get(pid) for pid in prompt_ids)
        return [item for item in found if item is not None]

    @abstractmethod
    def session(self, session_id: str) -> list[Interaction]:
        """A session's interactions in order (timestamp, then insertion)."""

    @abstractmethod
    def sessions(self) -> list[str]:
        """Every session id, in order of first appearance."""

    @abstractmethod
    def agents(self) -> list[Agent]:
        """Every agent, with its latest name and attributes."""

    @abstractmethod
    def links(self) -> list[Link]:
        """Every caller-made link between prompts."""

    @abstractmethod
    def iter_interactions(self) -> Iterator[Interaction]:
        """Every interaction, in insertion order."""

    @abstractmethod
    def count(self) -> int:
        """How many interactions are stored."""

    def stats(self) -> dict[str, int]:
        """Counts of what the store holds."""
        return {
            "interactions": self.count(),
            "sessions": len(self.sessions()),
            "agents": len(self.agents()),
            "links": len(self.links()),
        }

    @abstractmethod
    def load_vectors(self) -> StoredVectors:
        """Every stored prompt vector with its id and payload."""

    @contextlib.contextmanager
    def vector_blocks(self, rows: int = VECTOR_BLOCK_ROWS) -> Iterator[VectorBlocks]:
        """Every stored prompt vector with its id and payload, as :meth:`load_vectors` gives
        them (the same rows in the same order; :meth:`refresh` then goes on as after
        :meth:`load_vectors`), in blocks of about ``rows`` rows, read inside the ``with`` block.

        An index built from them never holds a second copy of every vector. A store that locks
        its files while they are read lets go after the last block. This default slices
        :meth:`load_vectors`.
        """
        stored = self.load_vectors()
        yield VectorBlocks(len(stored), _slices(stored, rows))

    def expired_ids(self, now: datetime) -> list[str]:
        """The prompt ids of the interactions whose ``expires_at`` is ``now`` or earlier.

        This default reads every interaction; stores that index the expiry do better.
        """
        return [item.prompt_id for item in self.iter_interactions() if item.is_expired(now)]

    def vectors_of(self, prompt_ids: Sequence[str]) -> StoredVectors:
        """The stored vectors of those of ``prompt_ids`` that have one, with their payloads.

        This default reads every vector; stores that can look a few up do better.
        """
        wanted = set(prompt_ids)
        every = self.load_vectors()
        rows = [row for row, pid in enumerate(every.ids) if pid in wanted]
        return StoredVectors(
            [every.ids[row] for row in rows],
            every.vectors[rows],
            [every.payloads[row] for row in rows],
        )

    def vector_matrix(self) -> StoredVectors | None:
        """Every stored prompt vector with its id but no payloads, read as cheaply as the
        store can (a memory map of its file), for one exact scan with no index built; ``None``
        (the default) when the store has nothing cheaper than :meth:`load_vectors`."""
        return None

    def version_token(self) -> str | None:
        """A token that changes whenever the stored vectors or payloads change: an index that
        recorded it knows, when it is equal, that they are unchanged (``None``: not known)."""
        return None

    @abstractmethod
    def refresh(self) -> StoreChanges:
        """Catch up with other writers: their changes since the last call (never this object's)."""

    def catching_up_may_wait(self) -> bool:
        """Whether catching up with other writers (:meth:`refresh`) may have to wait for one of
        them first (``True`` if unsure): an event loop then hands its work to a thread."""
        return True

    def own_files(self) -> list[Path]:
        """Every local file and folder the store keeps, whether it exists now or not.

        Temporary names the store writes and renames are included. Nothing from outside may
        write over them: :meth:`MemoryGraph.export` refuses to. A store on a server has none.
        Files a vector index derives from the store (:meth:`derived_file`) are named by the
        index, not here.
        """
        return []

    def derived_file(self, suffix: str) -> Path | None:
        """A path beside the store for a file a vector index can rebuild (``None``: none).

        An in-memory index that is slow to build (HNSW) keeps a copy of itself there, to load
        at the next open instead of building again. The store never reads the file.
        """
        return None

    # -- searches done by the store itself -------------------------------------------------------

    def vector_search(self, query: Matrix, k: int, flt: SearchFilter) -> ScoredIds:
        """Nearest prompts to a normalized query vector (stores with native vector backends)."""
        raise UnsupportedSearchError(f"the {self.name} store does not search vectors itself")

    def keyword_search(self, text: str, k: int, flt: SearchFilter) -> ScoredIds:
        """Prompts whose prompt or response text best matches ``text`` by keywords."""
        raise UnsupportedSearchError(
            f"the {self.name} store cannot search by keyword; use the sqlite or postgres store "
            "for mode='keyword' and mode='hybrid'"
        )

    # -- upkeep ------------------------------------------------------------------------------

    def compact(self) -> None:  # noqa: B027 - optional for stores that need no upkeep
        """Make the store compact and durable (the JSON store folds its journal)."""

    @abstractmethod
    def close(self) -> None:
        """Release files, connections and locks. Calling it twice is harmless."""

    # -- listing -----------------------------------------------------------------------------

    def page(
        self,
        query: ListQuery,
        after: Position | None,
        limit: int,
        *,
        descending: bool = False,
    ) -> list[Interaction]:
        """Up to ``limit`` interactions that pass ``query``, in time order (timestamp, then
        prompt id; newest first when ``descending``), strictly after ``after``.

        Backends select the page in :meth:`_select_page`.
        """
        return self._select_page(query, after, limit, descending)

    def _select_page(
        self, query: ListQuery, after: Position | None, limit: int, descending: bool
    ) -> list[Interaction]:
        """The page :meth:`page` asks for. This default reads every interaction; stores that
        can select and sort by themselves do better."""
        return select_page(self.iter_interactions(), query, after, limit, descending=descending)

    def count_matching(self, query: ListQuery) -> int:
        """How many interactions pass ``query`` (:meth:`count` when it selects everything,
        else :meth:`_count_selected`)."""
        if query.is_empty:
            return self.count()
        return self._count_selected(query)

    def _count_selected(self, query: ListQuery) -> int:
        """How many interactions pass ``query``, which selects some. This default reads every
        interaction; stores that can count by themselves do better."""
        return sum(1 for item in self.iter_interactions() if query.matches(item))

    def matching_ids(self, query: ListQuery) -> list[str]:
        """The prompt ids of every interaction that passes ``query``, in insertion order."""
        return [item.prompt_id for item in self.iter_interactions() if query.matches(item)]

    # -- session overview --------------------------------------------------------------------

    def session_summaries(
        self, query: ListQuery, after: SessionPosition | None, limit: int
    ) -> list[SessionSummary]:
        """Up to ``limit`` summaries of the sessions with interactions passing ``query``,
        newest last activity first (then session id, descending), strictly after ``after``.

        This default reads every interaction; stores that can group by themselves do better.
        """
        return summarize(self.iter_interactions(), query, after, limit)
