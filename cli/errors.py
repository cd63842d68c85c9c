"""The last line of defence: a bug prints one line and where its traceback went, exit 4."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable

import click

INTERNAL_ERROR = 4


def run_guarded(command: Callable[..., object], prog: str) -> None:
    """Run a click command; an unexpected exception becomes exit 4, never a bare traceback."""
    try:
        command(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, by definition: bad input is reported as diagnostics
        fd, path = tempfile.mkstemp(prefix=f"{prog}-crash-", suffix=".log")
        with os.fdopen(fd, "w") as log:
            traceback.print_exc(file=log)
        click.echo(
            f"{prog}: internal error ({type(exc).__name__}: {exc}); traceback in {path}",
            err=True,
        )
        sys.exit(INTERNAL_ERROR)
