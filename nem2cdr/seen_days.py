"""Remembering which (NMI, suffix, date) a file has already given, in little memory.

A dictionary entry per day would cost about 100 bytes, which for a gigabyte file breaks the
reader's memory bound. Instead each stream keeps one small array per month of the line number
and the UpdateDateTime of each day it has seen: about 16 bytes a day for real files.
"""

from __future__ import annotations

from array import array
from datetime import date
from typing import NamedTuple

from nem2cdr.latest import Copy, wins

_DAYS_IN_CHUNK = 31


class Earlier(NamedTuple):
    line: int
    update: int  # UpdateDateTime as a CCYYMMDDhhmmss integer, 0 when absent


class SeenDays:
    def __init__(self) -> None:
        self._chunks: dict[tuple[str, str, int], array[int]] = {}

    def record(self, nmi: str, suffix: str, day: date, line: int, update: int) -> Earlier | None:
        """Note that ``line`` holds this day; return the earlier holder if there was one."""
        key = (nmi, suffix, day.year * 12 + day.month)
        chunk = self._chunks.get(key)
        if chunk is None:
            chunk = self._chunks[key] = array("q", bytes(8 * 2 * _DAYS_IN_CHUNK))
        slot = 2 * (day.day - 1)
        earlier_line = chunk[slot]
        earlier = Earlier(earlier_line, chunk[slot + 1]) if earlier_line else None
        # The entry left behind is the copy that wins, so a third copy meets the current winner.
        if earlier is None or wins(Copy(update, line), Copy(earlier.update, earlier.line)):
            chunk[slot] = line
            chunk[slot + 1] = update
        return earlier
