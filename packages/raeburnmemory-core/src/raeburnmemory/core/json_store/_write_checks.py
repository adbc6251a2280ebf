"""A write request: checked against what is stored, then appended as ``add`` lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from raeburnmemory.core import checks
from raeburnmemory.core.errors import PartialWriteError
from raeburnmemory.core.json_store._follower import JournalFollower
from raeburnmemory.core.json_store._journal import AddLine, TornAppendError, add_line
from raeburnmemory.core.json_store._state import GraphState
from raeburnmemory.core.json_store._stored import StoredInteraction
from raeburnmemory.core.json_store._vector_rows import VectorLocation
from raeburnmemory.core.model import ContentKey, Interaction
from raeburnmemory.core.store import Matrix

__all__ = ["JOURNAL_LINE_ITEMS", "new_items", "write_items"]

#: Interactions per ``add`` line of the journal (a larger batch takes several lines).
JOURNAL_LINE_ITEMS = 2048


def new_items(
    state: GraphState,
    items: Sequence[Interaction],
    skip_conflicts: bool = False,
    replace: bool = False,
    rewrite: bool = False,
) -> tuple[list[int], set[str]]:
    """Positions of the interactions to write and the stored prompts they replace.

    A clash raises ``ConflictError`` unless ``skip_conflicts`` leaves the clashing items out,
    or ``replace`` puts them in place of the stored ones.
    """
    records = state.records

    def stored_key(prompt_id: str) -> ContentKey | None:
        record = records.get(prompt_id)
        return None if record is None else record.interaction().content_key()

    new = checks.classify_new(items, stored_key, state.responses.get)
    if replace:
        positions, replaced = checks.positions_to_replace(
            items, new, state.responses.get, rewrite=rewrite
        )
        return positions, set(replaced)
    return checks.positions_to_write(new, skip_conflicts), set()


def write_items(
    view: JournalFollower,
    append: Callable[..., list[tuple[int, int]]],
    items: list[Interaction],
    block: Matrix | None,
    skip_conflicts: bool,
    replace: bool,
    rewrite: bool = False,
    keep_rows: Callable[[Matrix, list[tuple[str, VectorLocation]]], None] | None = None,
) -> list[str]:
    """Append the items to write (``new_items``) as lines of at most ``JOURNAL_LINE_ITEMS``
    interactions, all or none, and apply them to ``view``; the prompt ids written.

    Called under the writers' lock; ``append`` writes whole lines to the journal. Once they
    are written, ``keep_rows`` gets the vectors of new prompts (none replaced) with their
    journal locations.
    """
    if block is not None:
        checks.check_fits_encoder(block, view.encoder)
    fresh, replaced = new_items(view.state, items, skip_conflicts, replace, rewrite)
    if not fresh:
        return []
    chosen = [items[i] for i in fresh]
    rows = None
    if block is not None:
        rows = block if len(fresh) == len(items) else block[fresh]
    lines: list[AddLine] = []

    def made() -> Iterator[bytes]:
        """Each line as it is appended, its bytes let go once written (a batch's lines are
        never all in memory)."""
        for start in range(0, len(chosen), JOURNAL_LINE_ITEMS):
            part = chosen[start : start + JOURNAL_LINE_ITEMS]
            named = [item.prompt_id for item in part if item.prompt_id in replaced]
            line = add_line(part, rows, start, named)
            lines.append(line)
            yield line.data
            line.data = b""

    try:
        placed = append(made())
    except TornAppendError as torn:
        done = [item.prompt_id for line in lines[: torn.complete] for item in line.items]
        view.reload_needed = True  # the complete lines are read back as stored
        raise PartialWriteError(torn.path, done, f"cannot write ({torn.cause})") from None
    dim = None if rows is None else int(rows.shape[1])
    kept = view.state.links_of(list(replaced))
    for line, (offset, length) in zip(lines, placed, strict=True):
        entries = [
            StoredInteraction.from_dict(data, item.timestamp.timestamp())
            for data, item in zip(line.dicts, line.items, strict=True)
        ]
        view.add_entries(entries, dim, offset, length, foreign=False)
    for link in kept:
        view.state.add_link(link)
    if keep_rows is not None and rows is not None and not replaced:
        keep_rows(rows, _locations(lines, placed))
    return [item.prompt_id for item in chosen]


def _locations(
    lines: list[AddLine], placed: list[tuple[int, int]]
) -> list[tuple[str, VectorLocation]]:
    """Each written prompt with the journal location of its vector, in order."""
    return [
        (item.prompt_id, (offset, length, row))
        for line, (offset, length) in zip(lines, placed, strict=True)
        for row, item in enumerate(line.items)
    ]
