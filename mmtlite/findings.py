"""A finding: what is wrong, and where. mmtlite's one type for refusals and bad rows."""

from __future__ import annotations

import msgspec


class Finding(msgspec.Struct, frozen=True, gc=False):
    """A code of ``codes.CODES`` at a place: ``line`` None for the whole file, ``column`` None
    for the whole row (or file)."""

    code: str
    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        column = f" [{self.column}]" if self.column is not None else ""
        return f"{where}{column}: {self.code} {self.message}"


class LoggedFinding(Finding, frozen=True, gc=False):
    """A finding as the error table keeps it: with the activity log entry of its load."""

    load_id: int
