"""Decoding interval values exactly, one C-level call per row in the common case.

A row's values are decoded as one JSON array by msgspec when a single regex search shows the
text is plain unsigned decimals of at most 15 characters each: such decimals always survive the
float round trip (``repr(float(s))`` denotes the same decimal). Anything else goes through the
slow path, which says precisely what is wrong with which value, or tolerates ``.048``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import msgspec

from nem2cdr.model import Diagnostic

_ARRAY = msgspec.json.Decoder(list[float])

# Anything but digits, dots and commas, or a run of 16+ digit/dot characters (which may carry
# more significant digits than a float holds exactly), sends a row to the slow path. Both are
# found with one translate and two substring searches: a regex costs ten times more per row.
_CLASSES = bytes(
    ord("x") if chr(byte) in "0123456789." else byte if chr(byte) == "," else ord("?")
    for byte in range(256)
)
_LONG_TOKEN = b"x" * 16
_DECIMAL = re.compile(rb"[0-9]+(?:\.[0-9]+)?")
_BARE_FRACTION = re.compile(rb"\.[0-9]+")
_SIGNED = re.compile(rb"-[0-9]*\.?[0-9]+")


class Decoded(NamedTuple):
    values: list[float] | None  # None when any value is an error
    # Errors (E) and tolerated deviations (W), each with ``where`` saying which interval; the
    # reader adds the file and line.
    problems: list[Diagnostic]


def _problem(code: str, message: str) -> Diagnostic:
    return Diagnostic(code, "", None, None, message)


def decode_segment(segment: bytes) -> list[float] | None:
    """The fast path: the values of ``a,b,c`` if they are all plain decimals, else None."""
    if not segment:
        return None
    classes = segment.translate(_CLASSES)
    if b"?" in classes or _LONG_TOKEN in classes:
        return None
    try:
        return _ARRAY.decode(b"[" + segment + b"]")
    except msgspec.DecodeError:
        return None


def decode_fields(fields: list[bytes]) -> Decoded:
    """The slow path, value by value: exact checks and precise messages."""
    values: list[float] = []
    problems: list[Diagnostic] = []
    failed = False
    for position, text in enumerate(fields):
        value, problem = decode_one(text)
        if problem is not None:
            problems.append(msgspec.structs.replace(problem, where=f"interval {position + 1}"))
            failed = failed or problem.code[6] == "E"
        if value is not None:
            values.append(value)
    return Decoded(None if failed else values, problems)


def decode_one(text: bytes, allow_negative: bool = False) -> tuple[float | None, Diagnostic | None]:
    """One value, and what is wrong with it (the caller knows where it is)."""
    shown = text.decode("latin-1")
    if _DECIMAL.fullmatch(text):
        problem = None
    elif _BARE_FRACTION.fullmatch(text):
        problem = _problem("NEM12-W008", f"value {shown!r} has no leading zero")
    elif _SIGNED.fullmatch(text):
        if not allow_negative:
            return None, _problem("NEM12-E013", f"value {shown!r} is negative")
        problem = None
    else:
        return None, _problem("NEM12-E011", f"value {shown!r} is not a decimal number")
    value = float(text)
    try:
        exact = Decimal(text.decode("ascii")) == Decimal(repr(value))
    except InvalidOperation:  # pragma: no cover - the regexes above only let decimals through
        exact = False
    if not exact:
        return None, _problem("NEM12-E014", f"value {shown!r} has more significant digits than 15")
    return value, problem
