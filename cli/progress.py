"""Progress bars on stderr for work that can take more than a second (see CLI.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

OnProgress = Callable[[int, int], None]


def wanted(quiet: bool) -> bool:
    """Bars only for a person watching: not with --quiet, not when stderr is a pipe or file."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def file_bar(label: str, enabled: bool) -> Iterator[OnProgress | None]:
    """A bar over a file's bytes; yields the callback to feed it, or None when disabled."""
    if not enabled:
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
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
