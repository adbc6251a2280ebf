"""The rules every store shares (raeburnmemory.core.checks), decided once for all backends."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import numpy as np
import pytest

from raeburnmemory.core.checks import (
    Conflict,
    check_encoder_at_open,
    check_encoder_change,
    check_fits_encoder,
    classify_new,
    refuse_conflicts,
    require_same_encoder,
    vector_matrix,
    vectors_for_ids,
)
from raeburnmemory.core.encoders import HashingEncoder, SentenceTransformerEncoder, resolve_encoder
from raeburnmemory.core.errors import (
    ConflictError,
    EmbeddingMismatchError,
    InvalidInteractionError,
)
from raeburnmemory.core.model import EncoderInfo
from raeburnmemory.core.testing import interaction, unit_vectors

#: A model no machine has (its own name: each model warns once per process when it falls back).
ABSENT_MODEL = "surely-not-an-installed-model-checks"


def test_content_key_is_what_same_content_compares() -> None:
    item = interaction(1)
    later = interaction(1, timestamp=datetime(2030, 1, 1, tzinfo=timezone.utc), metadata={"x": 1})
    assert item.content_key() == later.content_key()
    assert item.same_content(later)
    assert not item.same_content(interaction(1, session_id="elsewhere"))
    assert item.content_key() == (
        "p1",
        item.prompt_text,
        "r-p1",
        item.response_text,
        item.agent_id,
        item.session_id,
    )


def test_a_batch_is_sorted_into_fresh_unchanged_and_conflicting() -> None:
    stored = {item.prompt_id: item.content_key() for item in (interaction(0), interaction(1))}
    owners = {"r-p0": "p0", "r-p1": "p1"}
    batch = [
        interaction(0),  # stored with the same content
        interaction(1, prompt_text="changed"),  # stored with other content
        interaction(2),  # new
        interaction(2),  # new, repeated in the batch
        interaction(3, response_id="r-p0"),  # a stored prompt's response
        interaction(4, response_id="r-p2"),  # an earlier item's response
        interaction(2, prompt_text="changed again"),  # clashes with an earlier item
        interaction(5),
    ]
    new = classify_new(batch, stored.get, owners.get)
    assert new.fresh == [2, 7]
    assert new.unchanged == [0, 3]
    assert [(c.position, c.kind, c.owner) for c in new.conflicting] == [
        (1, "prompt", None),
        (4, "response", "p0"),
        (5, "response", "p2"),
        (6, "prompt", None),
    ]
    with pytest.raises(ConflictError, match="prompt 'p1' is stored already with different"):
        refuse_conflicts(new)
    assert refuse_conflicts(classify_new(batch[2:4], stored.get, owners.get)) == [0]


def test_one_wording_for_each_kind_of_conflict() -> None:
    prompt = Conflict(3, "prompt", "p1", "r-p1")
    response = Conflict(4, "response", "p9", "r-p0", owner="p0")
    assert prompt.message() == (
        "prompt 'p1' is stored already with different content; nothing was written"
    )
    assert response.message() == (
        "response 'r-p0' belongs to prompt 'p0', not to 'p9'; nothing was written"
    )


def test_vectors_that_do_not_fit_are_invalid_interactions() -> None:
    assert vector_matrix(None, 3) is None
    matrix = vector_matrix(unit_vectors(2, 4).astype(np.float64), 2)
    assert matrix is not None
    assert matrix.dtype == np.float32
    for vectors in (unit_vectors(3, 4), unit_vectors(2, 4)[0], np.zeros((2, 2, 2))):
        with pytest.raises(InvalidInteractionError, match="one vector per interaction"):
            vector_matrix(vectors, 2)
    check_fits_encoder(matrix, EncoderInfo("e", 4))
    with pytest.raises(InvalidInteractionError, match=r"3 dimensions.*'e' makes 4"):
        check_fits_encoder(unit_vectors(2, 3), EncoderInfo("e", 4))
    with pytest.raises(InvalidInteractionError, match="record the encoder"):
        check_fits_encoder(matrix, None)
    assert vectors_for_ids(["a", "b"], unit_vectors(2, 4), 4).shape == (2, 4)
    for vectors in (unit_vectors(1, 4), unit_vectors(2, 5), unit_vectors(2, 4)[0]):
        with pytest.raises(InvalidInteractionError, match="2 vectors of 4 dimensions"):
            vectors_for_ids(["a", "b"], vectors, 4)


def test_an_encoder_changes_only_while_no_vectors_exist() -> None:
    first, second = EncoderInfo("first", 8), EncoderInfo("second", 8)
    asked: list[bool] = []

    def has_vectors() -> bool:
        asked.append(True)
        return True

    assert check_encoder_change(None, first, has_vectors) is True
    assert check_encoder_change(first, first, has_vectors) is False
    assert not asked  # only asked when another encoder is recorded
    assert check_encoder_change(first, second, lambda: False) is True
    with pytest.raises(EmbeddingMismatchError, match=r"'first'.*'second'"):
        check_encoder_change(first, second, has_vectors)


def test_two_spellings_of_one_model_are_the_same_encoder() -> None:
    require_same_encoder(
        EncoderInfo("sentence-transformers/all-MiniLM-L6-v2", 384),
        EncoderInfo("all-MiniLM-L6-v2", 384),
    )
    with pytest.raises(EmbeddingMismatchError, match=r"'a'.*'b'"):
        require_same_encoder(EncoderInfo("a", 8), EncoderInfo("b", 8))


def test_the_check_at_open_leaves_a_lazy_model_unloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = resolve_encoder(ABSENT_MODEL, named=False)
    assert isinstance(model, SentenceTransformerEncoder)
    offline = HashingEncoder()
    assert check_encoder_at_open(None, model) is None
    assert check_encoder_at_open(EncoderInfo(ABSENT_MODEL, 384), model) is None
    assert check_encoder_at_open(EncoderInfo(offline.name, offline.dim), model) is None
    assert not model.loaded
    assert check_encoder_at_open(EncoderInfo(offline.name, offline.dim), offline) is None
    mismatch = check_encoder_at_open(EncoderInfo("other-model", 384), offline)
    assert isinstance(mismatch, EmbeddingMismatchError)
    assert "'other-model'" in str(mismatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the model falls back to the offline encoder
        compared = check_encoder_at_open(EncoderInfo(ABSENT_MODEL, 384), model, compare_loaded=True)
    assert isinstance(compared, EmbeddingMismatchError)  # what it loaded is the offline encoder
