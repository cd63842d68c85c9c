"""Numbers as short JSON text: the file's decimals, ``0`` not ``0.0``, one C call per array."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import msgspec

from nem2cdr.exact import decimal_places

_encode = msgspec.json.Encoder().encode
_decode_floats = msgspec.json.Decoder(list[float]).decode


T = TypeVar("T")


class _PerList(Generic[T]):
    """``compute(values)`` once per list object: every experiment formats the same lists.

    Keyed by the list itself (its id, checked by identity while the entry holds it alive).
    """

    _LIMIT = 200_000

    def __init__(self, compute: Callable[[list[float]], T]) -> None:
        self._compute = compute
        self._held: dict[int, tuple[list[float], T]] = {}

    def __call__(self, values: list[float]) -> T:
        held = self._held.get(id(values))
        if held is None or held[0] is not values:
            if len(self._held) >= self._LIMIT:
                self._held.clear()
            held = self._held[id(values)] = (values, self._compute(values))
        return held[1]


def _number_array(values: list[float]) -> bytes:
    text = _encode(values)
    # A float's shortest repr ends in ".0" only for integers, and ".0," or ".0]" can only be
    # that ending (a fraction like 0.05 never leaves ".0" before the separator).
    return text.replace(b".0,", b",").replace(b".0]", b"]")


number_array = _PerList(_number_array)  # "[0.036,0,1.5]": shortest decimals, no ".0"
places = _PerList(decimal_places)  # nem2cdr.exact.decimal_places, once per list


def number_tokens(values: list[float]) -> list[bytes]:
    """The numbers of ``number_array`` one by one, for shapes that wrap each value."""
    inner = number_array(values)[1:-1]
    return inner.split(b",") if inner else []


def floats(text: bytes) -> list[float]:
    return _decode_floats(text)


def negated(values: list[float]) -> list[float]:
    return [0.0 - value for value in values]  # never -0


_negated = _PerList(negated)


def written(values: list[float], export: bool) -> list[float]:
    """The values as the shapes write them (export negative), the same list every time, so
    that its text is formatted once (``number_array`` remembers lists, not their contents)."""
    return _negated(values) if export else values


def warm(reads: Iterable[tuple[list[float], bool]]) -> None:
    """Format every (values, export) once up front, so every experiment's timing starts from
    the same place: ``encode_ms`` then measures each shape's own work, not the number text."""
    for values, export in reads:
        number_array(written(values, export))
        places(values)
