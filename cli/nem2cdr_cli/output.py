"""Writing to the terminal: rich consoles (imported only when used) and JSON for scripts.

Kept apart from ``nem2cdr_cli.render`` so ``mmtlite`` starts without importing the NEM12 reader.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
import msgspec

if TYPE_CHECKING:
    from rich.console import Console

_json = msgspec.json.Encoder()
F = TypeVar("F", bound=Callable[..., Any])


def console(stderr: bool = False) -> Console:
    """A rich console, imported only when something is printed (rich costs 25 ms to import)."""
    return _console_class()(stderr=stderr, highlight=False, soft_wrap=True)


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class QuietOnClosedPipe(Console):
        """rich ends the process with exit 1 when the reader goes away (`| head -1`); the
        tools' ``Group`` ends it quietly with exit 0 instead, as for any other write."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return QuietOnClosedPipe


def stderr_console() -> Console:
    return console(stderr=True)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def print_json(value: object) -> None:
    sys.stdout.buffer.write(msgspec.json.format(_json.encode(value), indent=2) + b"\n")
    sys.stdout.flush()


def output_option(what: str) -> Callable[[F], F]:
    """``-o/--output``: a file, or '-' (the default) for standard output."""
    return click.option(
        "-o",
        "--output",
        default="-",
        show_default=True,
        type=click.Path(dir_okay=False, allow_dash=True),
        help=f"Where to write {what} ('-' for standard output).",
    )


def format_option(*scripted: str) -> Callable[[F], F]:
    """``--format``: ``table`` for people (the default), or one of ``scripted`` for scripts
    (then nothing else goes to stdout)."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", *scripted]),
        default="table",
        show_default=True,
        help=f"table for people, {' or '.join(scripted)} for scripts (nothing else on stdout).",
    )
