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
