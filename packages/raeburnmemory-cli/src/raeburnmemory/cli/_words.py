"""The library's messages in the command line's words: ``storage_backend='sqlite'`` becomes
``--backend sqlite``, ``top_k`` becomes ``--top-k``, and so on."""

from __future__ import annotations

import re

__all__ = ["cli_words"]

_VALUE = r"""['"]?([\w.:/-]+)['"]?"""

# (pattern, replacement), applied in order.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"open it with reindex=True \(or call reindex\(\)\)", "run 'raeburnmemory reindex'"),
        (r"open it with the model that made it", "give the model that made it with --model"),
        (r"\(?or pass embedding_model=None\)?", "(or --model none)"),
        (r"pass embedding_model=None", "give --model none"),
        (r"embedding_model=None", "--model none"),
        (rf"embedding_model={_VALUE}", r"--model \1"),
        (rf"open it with storage_backend={_VALUE}", r"add --backend \1"),
        (rf"use storage_backend={_VALUE}", r"use --backend \1"),
        (rf"storage_backend={_VALUE}", r"--backend \1"),
        (rf"vector_backend={_VALUE}", r"--vectors \1"),
        (r"use the sqlite or postgres store", "use --backend sqlite or --backend postgres"),
        (rf"\bmode={_VALUE}", r"--mode \1"),
        (r"\btop_k\b", "--top-k"),
        (rf"(?<!-o )\bindex={_VALUE}", r"-o index=\1"),
        (r"unknown option\(s\)", "unknown -o option(s)"),
        (r"known options:", "known -o options:"),
        (r"\bthe (\w[\w-]*) vector backend\b", r"--vectors \1"),
        (r"leave reembed unset or pass reembed=True", "leave out --keep-vectors"),
        (r"leave reembed unset", "leave out --keep-vectors"),
        (r"\breembed=False", "--keep-vectors"),
        (r"\breembed=True", "--reembed"),
    )
)


def cli_words(message: str) -> str:
    """``message`` with the library's keyword arguments replaced by the command's options."""
    for pattern, replacement in _REWRITES:
        message = pattern.sub(replacement, message)
    return message
