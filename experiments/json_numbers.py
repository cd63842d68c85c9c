"""Numbers as short JSON text: the file's decimals, ``0`` not ``0.0``, one C call per array."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from nem2cdr.exact import decimal_places

_encode = msgspec.json.Encoder().encode
_decode_floats = msgspec.json.Decoder(list[float]).decode


# Every experiment formats the same value lists: remember each list's text and decimal places
# (keyed by the list object itself, so a list is formatted once per process).
_MEMO_LIMIT = 200_000
_texts: dict[int, tuple[list[float], bytes]] = {}
_places: dict[int, tuple[list[float], int | None]] = {}


def number_array(values: list[float]) -> bytes:
    """``[0.036,0,1.5]``: shortest decimals, integers without ``.0``."""
    held = _texts.get(id(values))
    if held is not None and held[0] is values:
        return held[1]
    text = _encode(values)
    # A float's shortest repr ends in ".0" only for integers, and ".0," or ".0]" can only be
    # that ending (a fraction like 0.05 never leaves ".0" before the separator).
    text = text.replace(b".0,", b",").replace(b".0]", b"]")
    if len(_texts) >= _MEMO_LIMIT:
        _texts.clear()
    _texts[id(values)] = (values, text)
    return text


def places(values: list[float]) -> int | None:
    """``nem2cdr.exact.decimal_places``, once per list."""
    held = _places.get(id(values))
    if held is not None and held[0] is values:
        return held[1]
    found = decimal_places(values)
    if len(_places) >= _MEMO_LIMIT:
        _places.clear()
    _places[id(values)] = (values, found)
    return found


def number_tokens(values: list[float]) -> list[bytes]:
    """The numbers of ``number_array`` one by one, for shapes that wrap each value."""
    inner = number_array(values)[1:-1]
    return inner.split(b",") if inner else []


def floats(text: bytes) -> list[float]:
    return _decode_floats(text)


def negated(values: list[float]) -> list[float]:
    return [0.0 - value for value in values]  # never -0


_negated: dict[int, tuple[list[float], list[float]]] = {}


def written(values: list[float], export: bool) -> list[float]:
    """The values as the shapes write them (export negative), the same list every time, so
    that its text is formatted once (``number_array`` remembers lists, not their contents)."""
    if not export:
        return values
    held = _negated.get(id(values))
    if held is None or held[0] is not values:
        if len(_negated) >= _MEMO_LIMIT:
            _negated.clear()
        held = _negated[id(values)] = (values, negated(values))
    return held[1]


def warm(reads: Iterable[tuple[list[float], bool]]) -> None:
    """Format every (values, export) once up front, so every experiment's timing starts from
    the same place: ``encode_ms`` then measures each shape's own work, not the number text."""
    for values, export in reads:
        number_array(written(values, export))
        places(values)
