"""What mmtlite raises when it refuses a request: the caller's mistake, never a bug.

Bad input files are not exceptions (they are findings, kept in the error table); these are the
requests that cannot be carried out, each with a message of one line for the user.
"""

from __future__ import annotations


class MmtliteError(Exception):
    """A request mmtlite refuses; nothing was changed."""


class BadArgument(MmtliteError, ValueError):
    """An argument that can never work (a malformed date or code, options that contradict
    each other); ``option`` names the command-line option it comes from, when there is one."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class OutputError(MmtliteError):
    """A file mmtlite was asked to write cannot be written (the message names the user's path,
    never the hidden temporary it is written under first); nothing of it was written."""


class Exists(OutputError):
    """The file to write exists already and must not be replaced."""
