"""Exact decimal sums of model values, at C speed.

The model's floats are the file's decimals (see ``model``). Their exact decimal sum has no more
decimal places than the most precise input, so it is the float sum rounded to that many places,
as long as the sum is small enough that the floats' error cannot reach half a unit in that last
place. Outside that bound, ``Decimal`` does it exactly.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, localcontext

import msgspec

_ENCODE = msgspec.json.Encoder().encode
_DIGITS_AS_D = bytes(ord("d") if chr(byte).isdigit() else byte for byte in range(256))
# Decimal's default context rounds to 28 digits; sums here must be exact.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_MAX_PLACES = 9
# Bound on total * (n + 1) * 10**places under which a float sum rounds to the exact decimal
# (the error must stay below half a unit in the last place; 1e15 leaves a margin of 4).
_SAFE_SCALED_SUM = 1e15


def decimal_places(values: list[float]) -> int | None:
    """An upper bound of the decimal places of the values (a float prints integers as ``5.0``,
    so they count one); None when it cannot tell cheaply."""
    shape = number_shape(_ENCODE(values))
    return None if shape is None else shape[0]


def number_shape(text: bytes) -> tuple[int, int] | None:
    """The most decimal places of the JSON numbers in ``text`` (a number or an array of them)
    and the longest run of digits in it; None for an exponent, more than 9 places or 16 digits
    or more before the point, which the float sums here do not cover."""
    shape = text.translate(_DIGITS_AS_D)  # "[d.ddd,dd.d,...]"
    if b"e" in shape or b"E" in shape:
        return None  # exponent form: Decimal does it
    run = 0
    while b"d" * (run + 1) in shape:
        run += 1
        if run > 15:
            return None
    places = 0
    while places < run and b"." + b"d" * (places + 1) in shape:
        places += 1
    return None if places > _MAX_PLACES else (places, run)


Number = float | msgspec.Raw  # a Raw number is exact decimal text a float cannot carry


def exact_sum(values: list[float], places: int | None, negate: bool = False) -> Number:
    """The exact decimal sum of non-negative ``values`` (negated if asked), for a JSON payload.

    Normally the float that prints as that decimal; when the sum has more significant digits
    than a float carries, the decimal text itself (``msgspec.Raw``), never a rounded number.
    ``places`` bounds the decimal places of the values (``decimal_places``); None means unknown.
    """
    if places is not None:
        # Plain summation of n non-negative floats errs by at most (n + 1) * 2**-53 * total
        # (representation and rounding); below the bound that cannot reach half a unit in the
        # last place, so rounding to ``places`` gives the exact decimal sum.
        total = sum(values)
        if total * (len(values) + 1) * 10.0**places < _SAFE_SCALED_SUM:
            total = round(total, places)
            return (0.0 - total if negate else total) + 0.0  # + 0.0 turns -0.0 into 0.0
    with localcontext(EXACT):
        exact = sum((Decimal(repr(value)) for value in values), Decimal(0))
    if negate:
        exact = exact.copy_negate()  # unary minus would round to the context
    result = float(exact)
    if Decimal(repr(result)) == exact:
        return result + 0.0
    text = format(exact.normalize(EXACT), "f")
    return msgspec.Raw(b"0" if text in ("-0", "0") else text.encode())


def group_sums(values: list[float], size: int, places: int | None, negate: bool) -> list[Number]:
    """Exact sums of consecutive groups of ``size`` non-negative values (to 30 minutes)."""
    if places is not None and values:
        # One bound for every group (the largest sum bounds them all), as in exact_sum.
        sums = [sum(group) for group in zip(*[iter(values)] * size, strict=False)]
        if max(sums) * (size + 1) * 10.0**places < _SAFE_SCALED_SUM:
            if negate:
                return [0.0 - round(total, places) + 0.0 for total in sums]
            return [round(total, places) + 0.0 for total in sums]
    return [
        exact_sum(values[start : start + size], places, negate)
        for start in range(0, len(values), size)
    ]
