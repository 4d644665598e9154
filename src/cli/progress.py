"""Progress bars (rich) on standard error for the long CLI commands; drawn only
when standard error is a terminal, so pipes and logs stay clean."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress, self.task = progress, task

    def advance(self, steps: float = 1) -> None:
        self.progress.advance(self.task, steps)

    def reach(self, completed: float) -> None:
        self.progress.update(self.task, completed=completed)


@contextmanager
def progress_bar(description: str, total: float | None) -> Iterator[Bar]:
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        yield Bar(progress, progress.add_task(description, total=total))
