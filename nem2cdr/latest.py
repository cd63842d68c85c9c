"""The one rule for a day a file gives more than once: the latest copy wins.

The reader (which reports W011), the converter's spool (which keeps one copy per day, also
across the two halves of a file read in two processes) and the experiments' data all decide
with ``wins``, so they can never disagree about which copy is kept.
"""

from __future__ import annotations

from typing import NamedTuple


class Copy(NamedTuple):
    """What decides between two copies of the same (NMI, suffix, date)."""

    update: int  # UpdateDateTime as a CCYYMMDDhhmmss integer, 0 when absent
    position: int  # where the copy is in the input: a later copy has a larger number


def wins(copy: Copy, held: Copy) -> bool:
    """Whether ``copy`` replaces ``held``: the later UpdateDateTime, then the later copy."""
    return copy >= held
