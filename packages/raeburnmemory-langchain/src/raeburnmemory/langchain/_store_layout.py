"""How a LangGraph item is laid out in a memory, and how its filters are evaluated.

An item ``(namespace, key, value)`` is one prompt-only memory of the store's session:

* prompt id: ``langgraph:`` and the JSON list of the store's session, the namespace's labels
  and the key (so stores in different sessions never share an item);
* prompt text: the text of the value's indexed fields (LangGraph's ``get_text_at_path``; the
  whole value as sorted JSON by default), the text that is embedded;
* metadata: each top-level ``value`` entry ``k`` under ``v.k``, each namespace label under
  ``ns.0``, ``ns.1``, ... and the namespace's length under ``ns.depth`` (so a namespace prefix
  and a filter are metadata filters);
* the prompt's attributes ``namespace``, ``item_key`` and ``updated_at``; the memory's timestamp is
  the item's ``created_at``, kept when the item is put again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.store.base import Item, SearchItem
from langgraph.store.base.embed import get_text_at_path, tokenize_path

from raeburnmemory.core.errors import ConfigurationError
from raeburnmemory.core.model import Interaction, parse_timestamp

__all__ = [
    "COMPARISONS",
    "item_id",
    "item_metadata",
    "item_of",
    "item_text",
    "matches_filter",
    "namespace_of",
    "plain_item",
    "pushed_down",
]

_VALUE = "v."
_LABEL = "ns."
_DEPTH = "ns.depth"
#: LangGraph's filter operators, as its in-memory store evaluates them.
COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


def item_id(session_id: str, namespace: Sequence[str], key: str) -> str:
    """The prompt id of the item ``key`` in ``namespace`` of the store in ``session_id``."""
    return "langgraph:" + json.dumps([session_id, list(namespace), key], ensure_ascii=False)


def item_text(value: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The text embedded for ``value``: its indexed fields' texts, one per line (the whole
    value as sorted JSON when none of the fields is there)."""
    texts = [
        text
        for field in fields
        for text in get_text_at_path(value, field if field == "$" else tokenize_path(field))
    ]
    joined = "\n".join(texts)
    return joined if joined.strip() else json.dumps(value, sort_keys=True, ensure_ascii=False)


def item_metadata(namespace: Sequence[str], value: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata of an item: its value's entries and its namespace's labels."""
    metadata: dict[str, Any] = {_VALUE + k: v for k, v in value.items()}
    metadata.update({f"{_LABEL}{i}": label for i, label in enumerate(namespace)})
    metadata[_DEPTH] = len(namespace)
    return metadata


def namespace_of(memory: Interaction) -> tuple[str, ...]:
    """The namespace of the item a memory holds."""
    return tuple(memory.prompt_attrs.get("namespace") or ())


def item_of(memory: Interaction, score: float | None = None) -> SearchItem:
    """The LangGraph item a memory holds (a ``SearchItem``, which is also an ``Item``)."""
    value = {k[len(_VALUE) :]: v for k, v in memory.metadata.items() if k.startswith(_VALUE)}
    updated = memory.prompt_attrs.get("updated_at")
    return SearchItem(
        namespace=namespace_of(memory),
        key=str(memory.prompt_attrs.get("item_key")),
        value=value,
        created_at=memory.timestamp,
        updated_at=parse_timestamp(updated) if updated else memory.timestamp,
        score=score,
    )


def plain_item(item: SearchItem) -> Item:
    """``item`` as the ``Item`` that ``get`` returns."""
    return Item(
        value=item.value,
        key=item.key,
        namespace=item.namespace,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def pushed_down(namespace_prefix: Sequence[str], flt: Mapping[str, Any] | None) -> dict[str, Any]:
    """The metadata filter (``where=``) that selects at least every item of the namespace
    prefix passing ``flt``: the prefix's labels, and ``flt``'s equalities with text."""
    where: dict[str, Any] = {f"{_LABEL}{i}": label for i, label in enumerate(namespace_prefix)}
    for key, wanted in (flt or {}).items():
        if isinstance(wanted, Mapping) and set(wanted) == {"$eq"}:
            wanted = wanted["$eq"]
        if isinstance(wanted, str):
            where[_VALUE + key] = wanted
    return where


def matches_filter(value: Mapping[str, Any], flt: Mapping[str, Any] | None) -> bool:
    """Whether an item's ``value`` passes a LangGraph ``filter``, as LangGraph's in-memory
    store decides it: equality of values (objects and lists compared whole), or the operators
    of :data:`COMPARISONS`."""
    return all(_compare(value.get(key), wanted) for key, wanted in (flt or {}).items())


def _compare(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        if any(str(k).startswith("$") for k in wanted):
            return all(_apply(stored, op, operand) for op, operand in wanted.items())
        if not isinstance(stored, Mapping):
            return False
        return all(_compare(stored.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(stored, (list, tuple))
            and len(stored) == len(wanted)
            and all(_compare(s, w) for s, w in zip(stored, wanted, strict=True))
        )
    return bool(stored == wanted)


def _apply(stored: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return bool(stored == operand)
    if op == "$ne":
        return bool(stored != operand)
    if op not in COMPARISONS:
        raise ConfigurationError(f"filter operator {op!r} is not one of {', '.join(COMPARISONS)}")
    try:
        left, right = float(stored), float(operand)
    except (TypeError, ValueError):
        return False
    return {"$gt": left > right, "$gte": left >= right, "$lt": left < right}.get(op, left <= right)
