"""Progress bars on stderr for work that can take more than a second (see docs/cli.md)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

OnProgress = Callable[[float], None]


def wanted(quiet: bool) -> bool:
    """Bars only for a person watching: not with --quiet, not when stderr is a pipe or file."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def file_bar(label: str, enabled: bool) -> Iterator[OnProgress | None]:
    """A bar over the bytes of file ``label``; yields the callback to feed it the fraction
    read (0 to 1), or None when disabled or the size is unknown (standard input)."""
    size = os.path.getsize(label) if label != "-" and os.path.isfile(label) else 0
    if not enabled or not size:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=size)

        def update(fraction: float) -> None:
            bar.update(task, completed=int(fraction * size))

        yield update


OnFile = Callable[[int, int, str], None]


@contextmanager
def files_bar(enabled: bool) -> Iterator[OnFile | None]:
    """A bar over a run's files (a spinner while one big file loads); yields the callback
    ``(files done, files in all, the file now)``, or None when disabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("loading", total=None)

        def update(done: int, total: int, file: str) -> None:
            bar.update(task, completed=done, total=total, description=os.path.basename(file))

        yield update


OnStage = Callable[[str, float], None]


@contextmanager
def stages_bar(enabled: bool) -> Iterator[OnStage | None]:
    """One bar through a run's stages ("reading", then "measuring"); yields the callback
    ``(stage, fraction of it done)``, or None when disabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=1.0)

        def update(stage: str, fraction: float) -> None:
            bar.update(task, completed=fraction, description=stage)

        yield update
