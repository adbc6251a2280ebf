"""The exceptions raeburnmemory raises, all rooted in one base class.

Catch :class:`RaeburnMemoryError` to handle every failure of the library::

    RaeburnMemoryError
    ├── ConfigurationError            a bad option or environment value
    │   ├── BackendNotInstalledError  the backend's distribution is not installed (also ImportError)
    │   ├── InvalidCursorError        a listing's cursor was altered or belongs elsewhere
    │   ├── ExportTargetError         an export would write over a store file (or an existing one)
    │   └── ModelUnavailableError     a named embedding model cannot be loaded
    ├── StoreError                    the store cannot be used
    │   ├── CorruptStoreError         a file or database could not be read; it was left untouched
    │   │   └── NotAStoreError        the file is something else (settings, a SQLite database...)
    │   ├── PartialWriteError         a write failed midway; it says which interactions were written
    │   ├── StoreLockedError          another writer held the lock for too long
    │   ├── StoreNotFoundError        a read was asked of a store that does not exist
    │   ├── StorePermissionError      the process may not read or write a file of the store
    │   └── StoreUnavailableError     a server (database, vector service) cannot be reached
    ├── EmbeddingMismatchError        the store was written with another encoder
    ├── InteractionError              a request about interactions cannot be met
    │   ├── ConflictError             an id exists already with different content
    │   ├── InvalidInteractionError   an interaction's fields are not acceptable (also ValueError)
    │   └── NotFoundError             no such prompt or session (also KeyError)
    └── SearchError                   a search cannot be answered
        ├── InvalidFilterError        a metadata filter is malformed (also ValueError)
        ├── NoEmbeddingsError         the store holds no vectors yet
        └── UnsupportedSearchError    the store cannot do this kind of search
"""

from __future__ import annotations

import os

__all__ = [
    "BackendNotInstalledError",
    "ConfigurationError",
    "ConflictError",
    "CorruptStoreError",
    "EmbeddingMismatchError",
    "ExportTargetError",
    "InteractionError",
    "InvalidCursorError",
    "InvalidFilterError",
    "InvalidInteractionError",
    "ModelUnavailableError",
    "NoEmbeddingsError",
    "NotAStoreError",
    "NotFoundError",
    "PartialWriteError",
    "RaeburnMemoryError",
    "SearchError",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "StorePermissionError",
    "StoreUnavailableError",
    "UnsupportedSearchError",
]


class RaeburnMemoryError(Exception):
    """Base class of every error raised by raeburnmemory."""


class ConfigurationError(RaeburnMemoryError, ValueError):
    """An option or environment variable has a value that cannot be used."""


class BackendNotInstalledError(ConfigurationError, ImportError):
    """A storage or vector backend was asked for whose distribution is not installed."""

    def __init__(self, kind: str, name: str, distribution: str | None, extra: str | None) -> None:
        if distribution is None:
            hint = "no installed distribution provides it"
        else:
            hint = f"install it with: pip install {distribution}"
            if extra:
                hint += f"  (or: pip install 'raeburnmemory[{extra}]')"
        super().__init__(f"{kind} backend {name!r} is not available: {hint}")
        self.backend = name
        self.distribution = distribution


class ExportTargetError(ConfigurationError):
    """An export was refused where it would write: over one of the store's own files, or over
    an existing file the caller did not agree to replace. Nothing was written."""


class ModelUnavailableError(ConfigurationError):
    """An embedding model the caller named cannot be loaded; the message says how to get it."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"the embedding model {model!r} cannot be loaded: {reason}")
        self.model = model
        self.reason = reason


class StoreError(RaeburnMemoryError):
    """The store cannot be used."""


class CorruptStoreError(StoreError):
    """A store file or database could not be read; it has not been modified."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason} (the file was left untouched)")
        self.path = str(path)
        self.reason = reason


class PartialWriteError(StoreError):
    """A write failed after part of it was stored; ``written_ids`` lists the prompts stored.

    The stored part is durable and complete; the rest of the batch was not written.
    """

    def __init__(self, path: object, written_ids: list[str], reason: str) -> None:
        count = len(written_ids)
        if count:
            done = (
                f"{count} interaction{'s' * (count != 1)} were written before the failure "
                f"(first {written_ids[0]!r}, last {written_ids[-1]!r}; see written_ids)"
            )
        else:
            done = "nothing was written"
        super().__init__(f"{path}: {reason}; {done}")
        self.path = str(path)
        self.reason = reason
        #: The prompt ids stored before the failure, in the order of the batch.
        self.written_ids = list(written_ids)


class NotAStoreError(CorruptStoreError):
    """The path holds a file that is not this kind of store (another program's, or another
    backend's); it has not been modified."""

    def __init__(self, path: object, message: str) -> None:
        StoreError.__init__(self, message)
        self.path = str(path)
        self.reason = message


class StoreLockedError(StoreError):
    """Another writer held the store's lock for longer than the timeout."""

    def __init__(self, path: object, timeout: float) -> None:
        super().__init__(f"{path}: still locked by another writer after {timeout:g} s")
        self.path = str(path)
        self.timeout = timeout


class StoreNotFoundError(StoreError, FileNotFoundError):
    """A read was asked of a store that does not exist."""


class StorePermissionError(StoreError, PermissionError):
    """The process may not read or write a file (or directory) of the store."""

    def __init__(self, path: object, action: str) -> None:
        super().__init__(
            f"{path}: permission denied: this process (user id {_uid()}) may not {action} it; "
            "check the owner and mode of the file and of its directory"
        )
        self.path = str(path)
        self.action = action


def _uid() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid is not None else "unknown"


class StoreUnavailableError(StoreError):
    """A server the store depends on (a database, a vector service) cannot be reached."""


class EmbeddingMismatchError(RaeburnMemoryError):
    """The store's vectors were made by another encoder than the one in use."""

    def __init__(self, stored: str, stored_dim: int, active: str, active_dim: int) -> None:
        super().__init__(
            f"the store was embedded with {stored!r} ({stored_dim} dimensions) but the active "
            f"encoder is {active!r} ({active_dim} dimensions); open it with the model that made "
            "it, or open it with reindex=True (or call reindex()) to re-embed every prompt "
            "with the new one"
        )
        self.stored = stored
        self.stored_dim = stored_dim
        self.active = active
        self.active_dim = active_dim


class InteractionError(RaeburnMemoryError):
    """A request about interactions cannot be met."""


class ConflictError(InteractionError):
    """An id exists already with different content; nothing was changed."""


class InvalidInteractionError(InteractionError, ValueError):
    """An interaction's fields are missing, of the wrong type or not JSON-serializable."""


class NotFoundError(InteractionError, KeyError):
    """No prompt or session has the given id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SearchError(RaeburnMemoryError):
    """A search cannot be answered."""


class NoEmbeddingsError(SearchError):
    """The store holds no prompt vectors yet, so there is nothing to compare with."""


class UnsupportedSearchError(SearchError):
    """The store or vector backend cannot do the requested kind of search."""


class InvalidFilterError(SearchError, ValueError):
    """A metadata filter (``where=``) is malformed; the message names the bad part by its path,
    such as ``where["$and"][1]["age"]``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        #: Where the problem is, written as the filter would be indexed (``where["user"]``).
        self.path = path
        #: What is wrong there.
        self.problem = problem


class InvalidCursorError(ConfigurationError):
    """A listing's cursor was altered, or belongs to a listing with other filters or order."""
