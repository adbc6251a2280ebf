"""The offline encoder finds lexical neighbours; model names load lazily and fall back politely."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from raeburnmemory.core.encoders import (
    EMBED_MODEL_ENV,
    EncoderFallbackWarning,
    HashingEncoder,
    ObjectEncoder,
    SentenceTransformerEncoder,
    canonical_model_name,
    default_encoder,
    resolve_encoder,
    same_encoder,
)
from raeburnmemory.core.errors import ConfigurationError, ModelUnavailableError
from raeburnmemory.core.model import EncoderInfo


def test_hashing_vectors_are_normalized_and_deterministic() -> None:
    encoder = HashingEncoder()
    vectors = encoder.encode(["Hello?", "Hello", "a completely different sentence", ""])
    assert vectors.dtype == np.float32
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert not vectors[3].any()
    assert float(vectors[0] @ vectors[1]) > 0.99
    assert float(vectors[0] @ vectors[2]) < 0.3
    again = HashingEncoder().encode(["Hello?"])
    assert np.array_equal(again[0], vectors[0])


def test_hashing_is_stable_across_processes() -> None:
    code = (
        "from raeburnmemory.core.encoders import HashingEncoder;"
        "print(HashingEncoder().encode(['stable across runs'])[0][:8].tolist())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_hashing_ranks_near_spellings_above_unrelated_text() -> None:
    encoder = HashingEncoder()
    query, near, far = encoder.encode(
        ["configure the database", "configuring databases", "a poem about rain"]
    )
    assert query @ near > query @ far + 0.2


@pytest.mark.parametrize("value", [None, "none", "NONE", " "])
def test_none_selects_the_offline_encoder(value: object) -> None:
    assert isinstance(resolve_encoder(value), HashingEncoder)


def test_the_default_model_is_loaded_lazily_and_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = resolve_encoder("surely-not-an-installed-model-xyz", named=False)
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert not encoder.loaded
    with pytest.warns(EncoderFallbackWarning, match="surely-not-an-installed-model-xyz"):
        assert encoder.name == "raeburn-hashing-384"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert encoder.encode(["x"]).shape == (1, 384)


def test_a_named_model_loads_or_raises_saying_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = resolve_encoder("surely-not-an-installed-model-xyz")
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert encoder.named
    assert not encoder.loaded  # nothing is loaded at construction
    with pytest.raises(ModelUnavailableError, match="surely-not-an-installed-model-xyz") as caught:
        encoder.encode(["x"])
    assert "install" in str(caught.value) or "download" in str(caught.value)
    with pytest.raises(ModelUnavailableError):
        encoder.name  # noqa: B018 - asking loads, and fails again


def test_the_environment_names_a_model_and_unset_means_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(EMBED_MODEL_ENV, "sentence-transformers/some-model")
    named = default_encoder()
    assert isinstance(named, SentenceTransformerEncoder)
    assert (named.named, named.requested) == (True, "some-model")
    monkeypatch.delenv(EMBED_MODEL_ENV)
    unnamed = default_encoder()
    assert isinstance(unnamed, SentenceTransformerEncoder)
    assert (unnamed.named, unnamed.requested) == (False, "all-MiniLM-L6-v2")
    monkeypatch.setenv(EMBED_MODEL_ENV, "none")
    assert isinstance(default_encoder(), HashingEncoder)


def test_two_spellings_of_a_model_are_one_encoder() -> None:
    long = "sentence-transformers/all-MiniLM-L6-v2"
    assert canonical_model_name(long) == canonical_model_name("all-MiniLM-L6-v2")
    assert canonical_model_name("intfloat/e5-small") == "intfloat/e5-small"
    assert resolve_encoder(long).requested == "all-MiniLM-L6-v2"  # type: ignore[attr-defined]
    assert same_encoder(EncoderInfo(long, 384), EncoderInfo("all-MiniLM-L6-v2", 384))
    assert not same_encoder(EncoderInfo(long, 384), EncoderInfo("all-MiniLM-L6-v2", 768))
    assert not same_encoder(EncoderInfo("a/x", 8), EncoderInfo("b/x", 8))


def test_objects_with_encode_are_used_as_is() -> None:
    class Doubler:
        name = "doubler"

        def encode(self, texts: list[str]) -> list[list[float]]:
            return [[float(len(t)), 2.0, 0.0] for t in texts]

    encoder = resolve_encoder(Doubler())
    assert isinstance(encoder, ObjectEncoder)
    assert encoder.name == "doubler"
    assert encoder.dim == 3
    assert np.allclose(np.linalg.norm(encoder.encode(["abc"]), axis=1), 1.0)


def test_a_broken_encoder_is_reported() -> None:
    class Broken:
        def encode(self, texts: list[str]) -> object:
            return np.full((len(texts), 4), np.nan)

    with pytest.raises(ConfigurationError, match="NaN"):
        resolve_encoder(Broken()).encode(["x"])
    with pytest.raises(ConfigurationError):
        resolve_encoder(42)


def test_hashing_forgets_cached_words_past_a_bound_with_the_same_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from raeburnmemory.core import encoders

    monkeypatch.setattr(encoders, "_MAX_CACHED_WORDS", 50)
    encoder = HashingEncoder()
    texts = [f"query number {i} about word{i}" for i in range(40)]
    first = encoder.encode(texts[:1])
    for text in texts:
        encoder.encode([text])
    assert len(encoder._vocab) <= 50
    assert np.array_equal(encoder.encode(texts[:1]), first)
    assert np.array_equal(encoder.encode(texts), HashingEncoder().encode(texts))


def test_hashing_keeps_its_cache_for_long_texts_of_known_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from raeburnmemory.core import encoders

    monkeypatch.setattr(encoders, "_MAX_CACHED_WORDS", 50)
    encoder = HashingEncoder()
    long_text = " ".join(["same few words again"] * 100)  # 400 words, 4 distinct
    first = encoder.encode([long_text])
    hashed: list[str] = []
    original = encoder._add_word
    monkeypatch.setattr(encoder, "_add_word", lambda word: hashed.append(word) or original(word))
    again = encoder.encode([long_text, long_text])
    assert hashed == []  # every word came from the cache
    assert np.array_equal(again[1], first[0])
