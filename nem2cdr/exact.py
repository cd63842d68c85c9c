"""Exact decimal sums of model values, at C speed.

The model's floats are the file's decimals (see ``model``). Their exact decimal sum has no more
decimal places than the most precise input, so it is ``math.fsum`` (correctly rounded) rounded
to that many places, as long as the sum is small enough that the floats' representation error
cannot reach half a unit in that last place. Outside that bound, ``Decimal`` does it exactly.
"""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec

_ENCODE = msgspec.json.Encoder().encode
_DIGITS_AS_D = bytes(ord("d") if chr(byte).isdigit() else byte for byte in range(256))
_MAX_PLACES = 9
# fsum-then-round is exact while |sum| * 10**places stays well inside a float's 53 bits.
_SAFE_SCALED_SUM = 1e13


def decimal_places(values: list[float]) -> int | None:
    """The most decimal places any value has (0 for integers); None if it cannot tell cheaply."""
    shape = _ENCODE(values).translate(_DIGITS_AS_D)  # "[d.ddd,dd.d,...]"
    if b"e" in shape:  # exponent form: leave it to Decimal
        return None
    for places in range(_MAX_PLACES, 0, -1):
        if b"." + b"d" * places in shape:
            return places
    return 0


def exact_sum(values: list[float], places: int | None) -> float:
    """The exact decimal sum of ``values`` as the float that prints as that decimal.

    Raises ``ValueError`` when the exact sum is not a decimal a float carries exactly (more than
    15 significant digits): a caller must not publish a rounded aggregate.
    """
    if places is not None and values:
        # The float error of the sum is at most sum(|v|) * 2**-52, and sum(|v|) is at most
        # len * max|v|: below the bound it cannot reach half a unit in the last place.
        largest = max(-min(values), max(values))
        if len(values) * largest * 10.0**places < _SAFE_SCALED_SUM:
            return round(math.fsum(values), places) + 0.0  # + 0.0 turns -0.0 into 0.0
    exact = sum((Decimal(repr(value)) for value in values), Decimal(0))
    result = float(exact)
    if Decimal(repr(result)) != exact:
        raise ValueError(f"the exact sum {exact} has more digits than a float carries")
    return result + 0.0


def group_sums(values: list[float], size: int, places: int | None) -> list[float]:
    """Exact sums of consecutive groups of ``size`` values (5- or 15-minute to 30-minute)."""
    return [
        exact_sum(values[start : start + size], places) for start in range(0, len(values), size)
    ]
