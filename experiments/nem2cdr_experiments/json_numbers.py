"""Numbers as short JSON text: the file's decimals, ``0`` not ``0.0``, one C call per array."""

from __future__ import annotations

import msgspec

_encode = msgspec.json.Encoder().encode
_decode_floats = msgspec.json.Decoder(list[float]).decode


def number_array(values: list[float]) -> bytes:
    """``[0.036,0,1.5]``: the shortest decimals, no ``.0``."""
    text = _encode(values)
    # A float's shortest repr ends in ".0" only for integers, and ".0," or ".0]" can only be
    # that ending (a fraction like 0.05 never leaves ".0" before the separator).
    return text.replace(b".0,", b",").replace(b".0]", b"]")


def number_tokens(array: bytes) -> list[bytes]:
    """The numbers of a ``number_array`` one by one, for shapes that wrap each value."""
    inner = array[1:-1]
    return inner.split(b",") if inner else []


def floats(text: bytes) -> list[float]:
    return _decode_floats(text)


def negated(values: list[float]) -> list[float]:
    return [0.0 - value for value in values]  # never -0


def written(values: list[float], export: bool) -> list[float]:
    """The values as the shapes write them: export negative."""
    return negated(values) if export else values
