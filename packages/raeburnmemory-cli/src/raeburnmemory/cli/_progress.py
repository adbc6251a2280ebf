"""The progress bar of long commands: items done of the total, their rate and the time left."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["make_progress"]


class _RateColumn(ProgressColumn):
    """``1,234 interactions/s``: how fast items are done (blank until it is known)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        """The rate of ``task``."""
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("")
        return Text(f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


def make_progress(console: Console, unit: str) -> Progress:
    """A bar counting ``unit``: description, bar, done/total, rate, time left."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(unit),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
