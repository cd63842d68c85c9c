"""Parsing the small fields of MDFF records: dates, datetimes, quality, reason codes, UOM, text.

Each parser returns the value, or None with nothing else said; the reader decides which code a
failure gets, because it knows the record and the line. Dates repeat on every stream of a file,
so their parsers are cached.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

_QUALITY = re.compile(r"[AEFNSV](?:[0-9]{2})?")

# The spec's spelling of each unit of measure, keyed by its lower case.
_UOMS = (
    "MWh",
    "kWh",
    "Wh",
    "MVArh",
    "kVArh",
    "VArh",
    "MVAr",
    "kVAr",
    "VAr",
    "MW",
    "kW",
    "W",
    "MVAh",
    "kVAh",
    "VAh",
    "MVA",
    "kVA",
    "VA",
    "kV",
    "V",
    "kA",
    "A",
    "pf",
)
UOM_BY_LOWER: dict[str, str] = {uom.lower(): uom for uom in _UOMS}


@lru_cache(maxsize=4096)
def parse_date(text: bytes) -> date | None:
    """``CCYYMMDD``, or None."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_datetime(text: bytes) -> datetime | None:
    """``CCYYMMDDhhmmss`` or ``CCYYMMDDhhmm``, or None."""
    if len(text) not in (12, 14) or not text.isdigit():
        return None
    try:
        return datetime(
            int(text[:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14] or 0),
        )
    except ValueError:
        return None


def stamp(moment: datetime) -> int:
    """A datetime as the number CCYYMMDDhhmmss, which orders as the datetime does."""
    return (
        moment.year * 10**10
        + moment.month * 10**8
        + moment.day * 10**6
        + moment.hour * 10**4
        + moment.minute * 100
        + moment.second
    )


def is_quality_method(text: str) -> bool:
    return _QUALITY.fullmatch(text) is not None


def parse_reason_code(text: bytes) -> tuple[bool, int | None]:
    """(valid, code): an empty field is valid and None."""
    if not text:
        return True, None
    if text.isdigit() and len(text) <= 3:
        return True, int(text)
    return False, None


def decode_text(raw: bytes) -> tuple[str, bool]:
    """(text, was_utf8): MDFF is ASCII in practice; anything else is read as Latin-1."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("latin-1"), False
