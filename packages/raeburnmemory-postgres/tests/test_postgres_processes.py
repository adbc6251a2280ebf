"""Several processes writing one PostgreSQL store at once: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from raeburnmemory.core.model import EncoderInfo

WRITER = Path(__file__).with_name("_postgres_writer.py")


def test_racing_writers_lose_nothing_and_add_each_prompt_once(
    open_store: Any, pg_dsn: str, pg_schema: str
) -> None:
    store = open_store()
    store.set_encoder_info(EncoderInfo("test-encoder", 8))
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER), pg_dsn, pg_schema, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    reported: Counter[str] = Counter()
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        reported.update(json.loads(out))
    expected = {f"s{i}" for i in range(300)} | {f"u{n}-{i}" for n in range(3) for i in range(100)}
    assert set(reported) == expected | {"race0"}
    assert set(reported.values()) == {1}  # every prompt reported added by exactly one writer
    assert store.count() == len(expected) + 1
    stored = store.load_vectors()
    assert sorted(stored.ids) == sorted(reported)
    winner = store.get("race0")
    assert winner is not None
    assert winner.prompt_text.startswith("claimed by writer")
