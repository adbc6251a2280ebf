"""JSON reading and writing that never depends on Python's recursion limit.

The stores read and write their files with the standard :mod:`json` module, whose C code
recurses once per level of nesting and raises ``RecursionError`` past the interpreter's limit.
Records are refused at write time when nested deeper than
:data:`raeburnmemory.core.limits.MAX_DEPTH`, but a store written before that rule may hold one
nested far deeper. :func:`loads` and :func:`dumps` give the same results as ``json.loads`` and
``json.dumps`` (default options) and fall back, only for such a value, to a loop with its own
stack, so that one record can never make a whole store unreadable.
"""

from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring_ascii
from json.scanner import NUMBER_RE
from typing import Any

__all__ = ["dumps", "loads"]

# The standard library's string parser (C when available); typeshed does not declare it.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = vars(json.decoder)["scanstring"]
_SPACE = re.compile(r"[ \t\n\r]*")
_LITERALS = {
    "null": None,
    "true": True,
    "false": False,
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}


def loads(data: str | bytes | bytearray) -> Any:
    """``json.loads(data)``, for any depth of nesting (``ValueError`` for invalid JSON)."""
    try:
        return json.loads(data)
    except RecursionError:
        pass
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode(json.detect_encoding(data), "surrogatepass")
    return _decode(data)


def dumps(value: Any) -> str:
    """``json.dumps(value)``, for any depth of nesting (``TypeError`` for what JSON lacks)."""
    try:
        return json.dumps(value)
    except RecursionError:
        return "".join(_encode(value))


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _fail(message: str, text: str, pos: int) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, text, pos)


def _key(text: str, pos: int) -> tuple[str, int]:
    """An object's key at ``pos`` and the position of its value (after the colon)."""
    if not text.startswith('"', pos):
        raise _fail("Expecting property name enclosed in double quotes", text, pos)
    key, pos = _scanstring(text, pos + 1, True)
    pos = _skip(text, pos)
    if not text.startswith(":", pos):
        raise _fail("Expecting ':' delimiter", text, pos)
    return key, _skip(text, pos + 1)


def _scalar(text: str, pos: int) -> tuple[Any, int]:
    """A string, number or literal at ``pos``, and the position after it."""
    if text.startswith('"', pos):
        return _scanstring(text, pos + 1, True)
    match = NUMBER_RE.match(text, pos)
    if match is not None:
        integer, fraction, exponent = match.groups()
        if fraction or exponent:
            return float(integer + (fraction or "") + (exponent or "")), match.end()
        return int(integer), match.end()
    for word, value in _LITERALS.items():
        if text.startswith(word, pos):
            return value, pos + len(word)
    raise _fail("Expecting value", text, pos)


def _decode(text: str) -> Any:
    """Parse JSON text with an explicit stack of the containers still open."""
    stack: list[list[Any] | dict[str, Any]] = []
    keys: list[str] = []  # the pending key of each open object, in order
    pos = _skip(text, 0)
    while True:
        value: Any
        if text.startswith("{", pos):
            pos = _skip(text, pos + 1)
            if not text.startswith("}", pos):
                key, pos = _key(text, pos)
                stack.append({})
                keys.append(key)
                continue
            value, pos = {}, pos + 1
        elif text.startswith("[", pos):
            pos = _skip(text, pos + 1)
            if not text.startswith("]", pos):
                stack.append([])
                continue
            value, pos = [], pos + 1
        else:
            value, pos = _scalar(text, pos)
        # place the value, closing every container that ends after it
        while True:
            pos = _skip(text, pos)
            if not stack:
                if pos != len(text):
                    raise _fail("Extra data", text, pos)
                return value
            top = stack[-1]
            if isinstance(top, list):
                top.append(value)
            else:
                top[keys[-1]] = value
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
                if isinstance(top, dict):
                    keys[-1], pos = _key(text, pos)
                break
            if not text.startswith("]" if isinstance(top, list) else "}", pos):
                raise _fail("Expecting ',' delimiter", text, pos)
            pos += 1
            value = stack.pop()
            if isinstance(value, dict):
                keys.pop()


def _atom(value: Any) -> str | None:
    """The JSON text of a value that holds no other, or ``None`` for a list or an object."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    if isinstance(value, (list, tuple, dict)):
        return None
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encode(value: Any) -> Iterator[str]:
    """The pieces of ``json.dumps(value)``, with an explicit stack of open containers."""
    # each entry: the iterator over a container's items, whether it is a dict, items written
    stack: list[tuple[Iterator[Any], bool, list[int]]] = []

    def open_value(item: Any) -> Iterator[str]:
        text = _atom(item)
        if text is not None:
            yield text
        elif isinstance(item, dict):
            yield "{"
            stack.append((iter(item.items()), True, [0]))
        else:
            yield "["
            stack.append((iter(item), False, [0]))

    yield from open_value(value)
    while stack:
        items, is_dict, written = stack[-1]
        entry: Any = next(items, _END)
        if entry is _END:
            stack.pop()
            yield "}" if is_dict else "]"
            continue
        if written[0]:
            yield ", "
        written[0] += 1
        if is_dict:
            key, entry = entry
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            yield encode_basestring_ascii(key) + ": "
        yield from open_value(entry)


_END: Any = object()
