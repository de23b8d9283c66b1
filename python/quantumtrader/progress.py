"""What a long command shows while it works: a bar where the amount of work
is known (``features``, ``replay``, ``import``: bytes read, ``synth``:
sessions), a live status line where it is not (``record``).  Both go to
stderr and only when stderr is a terminal: in a log file or a pipe the
command stays quiet and prints its report at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_console() -> Console:
    """The console progress is drawn on (stderr; tests replace this)."""
    return Console(stderr=True)


@contextmanager
def progress_bar(
    description: str, total: int | None, unit: str = "items"
) -> Iterator[Callable[..., None]]:
    """Yields ``show(done, total=None)``: ``done`` units of the work (of
    ``total``, which may be learnt late) are finished; ``unit`` is "items"
    (shown as done/total) or "bytes" (shown as sizes).  The bar is removed
    when the block ends, so the report that follows stands alone."""
    console = progress_console()
    amount = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    columns = (
        TextColumn("{task.description}"), BarColumn(), amount, TimeElapsedColumn(), TimeRemainingColumn()
    )
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)

        def show(done: int, total: int | None = None) -> None:
            if total is None:
                bar.update(task, completed=done)
            else:
                bar.update(task, completed=done, total=total)

        yield show


@contextmanager
def status_line(initial: str) -> Iterator[Callable[[str], None]]:
    """Yields ``show(text)``: replaces the live status line (e.g. records so far)."""
    console = progress_console()
    if not console.is_terminal:
        yield lambda text: None
        return
    with console.status(initial) as status:
        yield status.update


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """Yields ``show(stage, done, total)``: one bar per stage of a job (e.g.
    cross-validation folds, then the final models), each added when its
    stage first reports; all removed when the block ends."""
    console = progress_console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        tasks: dict[str, TaskID] = {}

        def show(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield show
