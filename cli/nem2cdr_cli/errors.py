"""How both commands end: Ctrl-C, a closed pipe and bugs each end one way, never a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import click

# Exit codes, the same for both tools (docs/cli.md): 2 is click's usage error.
INPUT_ERRORS = 1
BUSY = 3  # mmtlite: another writer holds the environment
INTERNAL_ERROR = 4
# 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C.
INTERRUPTED = 130


class Group(click.Group):
    """The top-level group of a tool: Ctrl-C exits 130 with one line, a closed pipe exits 0.

    Both are caught here rather than in ``main`` so that click's test runner sees the same
    exits as a terminal does (click itself turns both into exit 1).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that went away is found here, not at interpreter exit
            return result
        except KeyboardInterrupt:
            click.echo(f"{ctx.find_root().info_name}: interrupted", err=True)
            ctx.exit(INTERRUPTED)
        except BrokenPipeError:
            # `nem2cdr ... | head -1`: the reader has what it wanted; nothing more to say.
            discard_stdout()
            ctx.exit(0)


def discard_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def fail(prog: str, message: str) -> NoReturn:
    """A refusal of what the user gave (input, output, options): one line on stderr naming
    the command, exit 1."""
    click.echo(f"{prog}: {message}", err=True)
    sys.exit(INPUT_ERRORS)


def cannot_write(prog: str, exc: OSError, target: object) -> NoReturn:
    """An output that cannot be written: a place the user chose, not a bug."""
    fail(prog, f"cannot write {exc.filename or target}: {exc.strerror}")


@contextlib.contextmanager
def writing(
    prog: str, target: object, refusals: tuple[type[Exception], ...] = ()
) -> Iterator[None]:
    """Around a command's work that writes ``target``: an option the library refuses is a
    usage error (exit 2), one of ``refusals`` a one-line refusal, an output that cannot be
    written one line naming it (exit 1); a reader that stopped early (``| head``) ends it
    quietly (the group's business)."""
    from nem2cdr.usage import OptionsError

    try:
        yield
    except OptionsError as exc:
        raise click.UsageError(str(exc)) from exc
    except refusals as exc:
        fail(prog, str(exc))
    except BrokenPipeError:
        raise
    except OSError as exc:  # a place the user chose, not a bug
        cannot_write(prog, exc, target)


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


def given(context: click.Context, name: str) -> bool:
    """Whether the option ``name`` was given (on the command line or by the environment)."""
    return context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
