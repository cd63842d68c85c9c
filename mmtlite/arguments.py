"""The public handle's arguments, checked before anything is read, locked or logged.

A wrong type or a value out of range is the caller's mistake: ``BadArgument`` naming the
argument (and the command-line option it comes from, for the CLI's usage error), never a
``TypeError`` from deep inside or a run left half logged. The bounds are the ones the CLI's
options declare too.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from datetime import date, datetime
from typing import TypeVar

from mmtlite.errors import BadArgument

SQLITE_MAX = 2**63 - 1  # SQLite's largest integer: a bigger limit or id cannot be compared
MAX_SEQUENCE = 10**12 - 1  # a header's sequence has at most 12 digits (fileformat)
DASH = "-"  # standard input where a file is read, standard output where one is written

_T = TypeVar("_T")
PathLike = str | os.PathLike[str]


def whole(
    value: object, name: str, low: int, high: int = SQLITE_MAX, option: str | None = None
) -> int:
    """A whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadArgument(
            f"{name} must be a whole number from {low:,} to {high:,}, not {value!r}", option
        )
    return value


def optional_whole(
    value: object, name: str, low: int, high: int = SQLITE_MAX, option: str | None = None
) -> int | None:
    return None if value is None else whole(value, name, low, high, option)


def share(value: object, name: str, option: str | None = None) -> float:
    """A share from 0 to 1 (0.2 is 20%); NaN is no share."""
    # NaN fails the comparison too: it is no share.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise BadArgument(f"{name} must be a share from 0 to 1 (0.2 is 20%), not {value!r}", option)
    return float(value)


def text(value: object, name: str, option: str | None = None) -> str:
    if not isinstance(value, str):
        raise BadArgument(f"{name} must be text (a str), not {value!r}", option)
    return value


def choice(value: object, name: str, choices: Collection[_T], option: str | None = None) -> _T:
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(map(str, choices))
        raise BadArgument(f"{name} must be one of {listed}, not {value!r}", option)
    return value  # type: ignore[return-value]  # one of the choices


def flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadArgument(f"{name} must be True or False, not {value!r}")
    return value


def path(value: object, name: str, option: str | None = None) -> str:
    """A path (``str`` or ``os.PathLike``), not empty; as text."""
    if not isinstance(value, str | os.PathLike):
        raise BadArgument(f"{name} must be a path (str or os.PathLike), not {value!r}", option)
    given = os.fspath(value)
    if not isinstance(given, str) or not given or "\0" in given:
        raise BadArgument(f"{name} must be a file's path, not {given!r}", option)
    try:
        os.fsencode(given)  # a lone surrogate names no file on any file system
    except UnicodeEncodeError:
        raise BadArgument(f"{name} must be a file's path, not {given!r}", option) from None
    return given


def optional_path(value: object, name: str, option: str | None = None) -> str | None:
    return None if value is None else path(value, name, option)


def input_paths(value: object) -> list[str]:
    """Files to read: one path, or a list of them; never standard input, whose data has no
    name (the name carries the category, environment and stamp)."""
    given = [value] if isinstance(value, str | os.PathLike) else value
    if isinstance(given, bytes | bytearray) or not isinstance(given, Collection):
        raise BadArgument(f"paths must be a path or a list of paths, not {value!r}")
    paths = [path(one, "each path") for one in given]
    if DASH in paths:
        raise BadArgument(
            "standard input (-) is not supported: a file's name carries its category, "
            "environment and stamp; save the data as a file with its name"
        )
    return paths


def moment(value: object, name: str, option: str | None = None) -> datetime | None:
    """A ``datetime`` (naive: local time, as file names use), or None for now."""
    if value is not None and not isinstance(value, datetime):
        raise BadArgument(f"{name} must be a datetime, not {value!r}", option)
    return value


def day(value: object, name: str, option: str | None = None) -> date | None:
    """A ``date`` (a ``datetime`` gives its date), or None."""
    if value is None or isinstance(value, datetime):
        return value.date() if value is not None else None
    if not isinstance(value, date):
        raise BadArgument(f"{name} must be a date, not {value!r}", option)
    return value


def printable(path: str | os.PathLike[str]) -> str:
    """A path for a one-line message: as it is, or quoted with its control characters shown."""
    name = os.fspath(path)
    return name if name.isprintable() else repr(name)
