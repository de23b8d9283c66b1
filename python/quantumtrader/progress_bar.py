"""The progress bar of a long command (``import``, ``synth``): on stderr, so
the command's report on stdout stays clean; shown only when stderr is a
terminal, so logs, pipes and CI stay quiet; removed when the job ends."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_bar(counting: str = "bytes", console: Console | None = None) -> Progress:
    """A transient bar; ``counting`` is ``"bytes"`` (input read, e.g. of a
    file) or ``"items"`` (done / total, e.g. sessions)."""
    console = console or Console(stderr=True)
    amount = DownloadColumn() if counting == "bytes" else MofNCompleteColumn()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), amount, TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )
