"""Text encoders: the offline hashing encoder, sentence-transformers models and caller objects.

Every encoder has a ``name`` (recorded in the store), a ``dim`` and ``encode(texts)`` returning a
float32 matrix with one L2-normalized row per text, so cosine similarity is an inner product.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
import zlib
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from raeburnmemory.core._model_loading import (
    HUB_PROBE_SECONDS,
    PACKAGED_MODELS,
    canonical_model_name,
    load_model,
)
from raeburnmemory.core.errors import (
    ConfigurationError,
    ModelUnavailableError,
)
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.store import Matrix

__all__ = [
    "DEFAULT_MODEL",
    "EMBED_MODEL_ENV",
    "HUB_PROBE_SECONDS",
    "Encoder",
    "EncoderFallbackWarning",
    "HashingEncoder",
    "ObjectEncoder",
    "SentenceTransformerEncoder",
    "canonical_model_name",
    "default_encoder",
    "resolve_encoder",
    "same_encoder",
]

#: The sentence-transformers model used when the caller names none.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: Environment variable naming the default model (``none`` selects the offline encoder).
EMBED_MODEL_ENV = "RAEBURN_EMBED_MODEL"

_TOKEN = re.compile(r"\w+", re.UNICODE)
# The hashing encoder caches the features of at most about this many distinct words.
_MAX_CACHED_WORDS = 100_000


class EncoderFallbackWarning(UserWarning):
    """A neural model could not be loaded, so the offline hashing encoder is used instead."""


# Models whose fallback was announced already: once per process and model is enough.
_ANNOUNCED_FALLBACKS: set[str] = set()


def _warn_fallback(model_name: str, reason: str, fallback_name: str) -> None:
    """Say in one line, once per process and model, that the offline encoder stands in."""
    if model_name in _ANNOUNCED_FALLBACKS:
        return
    _ANNOUNCED_FALLBACKS.add(model_name)
    package = PACKAGED_MODELS.get(canonical_model_name(model_name))
    weights = f" {package.replace('_', '-')}" if package else ""
    warnings.warn(
        f"the embedding model {model_name!r} is not available ({reason}), so the offline "
        f"encoder {fallback_name} is used: set RAEBURN_EMBED_MODEL=none (or pass "
        "embedding_model=None) to choose it without this message, or install the model with "
        f"pip install 'raeburnmemory-core[embeddings]'{weights}",
        EncoderFallbackWarning,
        stacklevel=5,
    )


@runtime_checkable
class Encoder(Protocol):
    """What MemoryGraph needs of an encoder."""

    @property
    def name(self) -> str:
        """The name recorded in the store beside the vectors."""

    @property
    def dim(self) -> int:
        """The dimension of the vectors."""

    def encode(self, texts: Sequence[str]) -> Matrix:
        """One L2-normalized float32 row per text."""


def _normalize(matrix: Any, *, dim: int | None = None, source: str = "encoder") -> Matrix:
    array = np.asarray(matrix, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise ConfigurationError(f"{source} returned an array of shape {array.shape}, not (n, dim)")
    if dim is not None and array.shape[1] != dim:
        raise ConfigurationError(f"{source} returned {array.shape[1]} dimensions, expected {dim}")
    if not np.all(np.isfinite(array)):
        raise ConfigurationError(f"{source} returned NaN or infinite values")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


class HashingEncoder:
    """Offline encoder: feature hashing of words and character n-grams, numpy only.

    Deterministic across processes and Python versions (CRC32, not ``hash()``), so vectors written
    by one run are comparable with the next. Lexical neighbours score high ("Hello" and "Hello?"
    share every feature); meaning beyond shared words and spellings is not captured.
    """

    def __init__(self, dim: int = 384, *, ngram: int = 3) -> None:
        if dim < 16:
            raise ConfigurationError("the hashing encoder needs at least 16 dimensions")
        self._dim = dim
        self._ngram = ngram
        # Features of every word seen so far, CSR-style: word id -> [start, start + length).
        self._vocab: dict[str, int] = {}
        self._starts = np.zeros(1024, dtype=np.intp)
        self._lengths = np.zeros(1024, dtype=np.intp)
        self._columns = np.zeros(16384, dtype=np.intp)
        self._weights = np.zeros(16384, dtype=np.float32)
        self._used = 0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``raeburn-hashing-<dim>``."""
        return f"raeburn-hashing-{self._dim}"

    @property
    def dim(self) -> int:
        """The dimension of the vectors."""
        return self._dim

    def _add_word(self, word: str) -> int:
        padded = f"<{word}>"
        n = self._ngram
        grams = [f"w:{word}", *(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))]
        hashes = [zlib.crc32(g.encode("utf-8")) for g in grams]
        dim = self._dim
        columns = [h % dim for h in hashes]
        weights = [-1.0 if (h >> 31) & 1 else 1.0 for h in hashes]
        weights[0] *= 2.0  # the whole word weighs more than any one of its n-grams
        ident = len(self._vocab)
        if ident >= len(self._starts):
            self._starts = np.resize(self._starts, 2 * len(self._starts))
            self._lengths = np.resize(self._lengths, 2 * len(self._lengths))
        end = self._used + len(columns)
        if end > len(self._columns):
            size = max(end, 2 * len(self._columns))
            self._columns = np.resize(self._columns, size)
            self._weights = np.resize(self._weights, size)
        self._columns[self._used : end] = columns
        self._weights[self._used : end] = weights
        self._starts[ident] = self._used
        self._lengths[ident] = len(columns)
        self._used = end
        self._vocab[word] = ident
        return ident

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Hash each text's lower-cased words and their character n-grams into one vector."""
        count = len(texts)
        word_ids: list[int] = []
        per_text: list[int] = []
        with self._lock:
            vocab = self._vocab
            for text in texts:
                words = _TOKEN.findall(text.lower())
                word_ids.extend(vocab[w] if w in vocab else self._add_word(w) for w in words)
                per_text.append(len(words))
            ids = np.asarray(word_ids, dtype=np.intp)
            starts = self._starts[ids]
            lengths = self._lengths[ids]
            total = int(lengths.sum())
            offsets = np.cumsum(lengths) - lengths
            feature = np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.intp)
            columns = self._columns[feature]
            weights = self._weights[feature]
            if len(vocab) > _MAX_CACHED_WORDS:
                # Every new word of every query would otherwise stay cached for the life of
                # the process: start the cache afresh instead (bounded memory in a server).
                self._vocab = {}
                self._used = 0
        text_of_word = np.repeat(np.arange(count, dtype=np.intp), per_text)
        rows = np.repeat(text_of_word, lengths)
        flat = np.bincount(rows * self._dim + columns, weights=weights, minlength=count * self._dim)
        return _normalize(flat.reshape(count, self._dim))


class ObjectEncoder:
    """Wraps any object with ``encode(list[str]) -> array`` (a SentenceTransformer works as is)."""

    def __init__(self, model: Any, name: str | None = None) -> None:
        self._model = model
        self._name = name or _object_name(model)
        self._dim: int | None = None

    @property
    def name(self) -> str:
        """The model's name (``model.model_name``/``name`` attributes, else its class name)."""
        return self._name

    @property
    def dim(self) -> int:
        """The dimension, asked of the model or found by encoding one text."""
        if self._dim is None:
            # sentence-transformers 6 renamed the method (the old name warns); ask the new first.
            getter = getattr(self._model, "get_embedding_dimension", None)
            if not callable(getter):
                getter = getattr(self._model, "get_sentence_embedding_dimension", None)
            found = getter() if callable(getter) else None
            self._dim = int(found) if found else int(self.encode(["dimension probe"]).shape[1])
        return self._dim

    def encode(self, texts: Sequence[str]) -> Matrix:
        """The model's vectors, normalized."""
        result = self._model.encode(list(texts))
        matrix = _normalize(result, dim=self._dim, source=f"encoder {self._name}")
        if self._dim is None:
            self._dim = int(matrix.shape[1])
        return matrix


def _object_name(model: Any) -> str:
    for attr in ("model_name", "name", "name_or_path"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    card = getattr(model, "model_card_data", None)
    value = getattr(card, "base_model", None)
    if isinstance(value, str) and value:
        return value
    return type(model).__name__


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded on first use (never at construction).

    A model the caller ``named`` loads or raises :class:`ModelUnavailableError` saying how to
    get it. The default model (``named=False``: no argument, no ``$RAEBURN_EMBED_MODEL``) falls
    back instead: if it cannot be loaded, it warns once with :class:`EncoderFallbackWarning`
    and uses ``fallback`` (the hashing encoder) from then on. Either way a model that is not on
    this machine is never waited for longer than a short bound (see ``docs/embeddings.md``).
    """

    def __init__(
        self, model_name: str, *, fallback: HashingEncoder | None = None, named: bool = True
    ) -> None:
        self._model_name = canonical_model_name(model_name)
        self._named = named
        self._fallback = fallback or HashingEncoder()
        self._active: ObjectEncoder | HashingEncoder | None = None
        self._lock = threading.Lock()

    def _load(self) -> ObjectEncoder | HashingEncoder:
        if self._active is not None:
            return self._active
        with self._lock:
            if self._active is None:
                self._active = self._try_load()
        return self._active

    def _try_load(self) -> ObjectEncoder | HashingEncoder:
        try:
            model = load_model(self._model_name)
        except ModelUnavailableError as exc:
            if self._named:
                raise
            reason = exc.reason
        else:
            return ObjectEncoder(model, name=self._model_name)
        _warn_fallback(self._model_name, reason, self._fallback.name)
        return self._fallback

    @property
    def requested(self) -> str:
        """The model name asked for, in its canonical spelling."""
        return self._model_name

    @property
    def named(self) -> bool:
        """Whether the caller named the model (so it must load: no fallback)."""
        return self._named

    @property
    def loaded(self) -> bool:
        """Whether the model (or its fallback) has been loaded already."""
        return self._active is not None

    @property
    def fallback_name(self) -> str:
        """The name of the encoder used if the default model cannot be loaded."""
        return self._fallback.name

    @property
    def name(self) -> str:
        """The name of the encoder actually in use (the model, or the fallback's)."""
        return self._load().name

    @property
    def dim(self) -> int:
        """The dimension of the encoder in use."""
        return self._load().dim

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Vectors from the model, or from the fallback when it could not be loaded."""
        return self._load().encode(texts)


def resolve_encoder(embedding_model: Any = DEFAULT_MODEL, *, named: bool = True) -> Encoder:
    """Turn MemoryGraph's ``embedding_model`` argument into an encoder.

    ``None`` or ``"none"``: the offline hashing encoder. A string: a sentence-transformers model
    name (or a folder), loaded lazily; with ``named=False`` (the default model, which nobody
    named) it may fall back to the offline encoder. An object with ``encode``: used as is.
    """
    if embedding_model is None:
        return HashingEncoder()
    if isinstance(embedding_model, str):
        name = embedding_model.strip()
        if not name or name.lower() in {"none", "hashing", "offline"}:
            return HashingEncoder()
        if name.startswith("raeburn-hashing-"):
            suffix = name.removeprefix("raeburn-hashing-")
            if suffix.isdigit():
                return HashingEncoder(int(suffix))
        return SentenceTransformerEncoder(name, named=named)
    if isinstance(embedding_model, (HashingEncoder, SentenceTransformerEncoder, ObjectEncoder)):
        return embedding_model
    if callable(getattr(embedding_model, "encode", None)):
        return ObjectEncoder(embedding_model)
    raise ConfigurationError(
        "embedding_model must be a model name, None, or an object with encode(list[str])"
    )


def default_model_name() -> str:
    """``$RAEBURN_EMBED_MODEL`` when set, else :data:`DEFAULT_MODEL`."""
    return os.environ.get(EMBED_MODEL_ENV, "").strip() or DEFAULT_MODEL


def default_encoder() -> Encoder:
    """The encoder when the caller passes none: ``$RAEBURN_EMBED_MODEL`` (named: it must load),
    else :data:`DEFAULT_MODEL` (which falls back to the offline encoder if it cannot load)."""
    named = os.environ.get(EMBED_MODEL_ENV, "").strip()
    if named:
        return resolve_encoder(named)
    return resolve_encoder(DEFAULT_MODEL, named=False)


def same_encoder(first: EncoderInfo, second: EncoderInfo) -> bool:
    """Whether two encoder records name one encoder (any spelling of a model's name)."""
    return first.dim == second.dim and canonical_model_name(first.name) == canonical_model_name(
        second.name
    )
