"""A usage read decoded fast, for ``check``'s common case: a read with nothing wrong.

``plain_read`` decodes one read's bytes with typed msgspec Structs into the plain value the
checks look at (floats where ``checking._loads`` gives Decimals), or None when the read is
unusual in a way only the exact path may judge: an escape, a key twice, a null inside a nested
object, a key the standard does not name, interval values that are not all numbers.
``sum_holds`` proves an aggregateValue equal to the exact decimal sum of the interval values
from their floats, or says it cannot; ``check`` then adds them up in Decimal. So the fast path
only ever confirms; every problem is found and worded by the exact path.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from nem2cdr.exact import number_shape

# A key ends at a quote followed by a colon (with no backslash in a read, no string holds one).
_KEY_END = re.compile(rb'"[ \t\r\n]*:')
# The float proof below holds while the scaled magnitudes stay under this (see sum_holds).
_SAFE_SCALED = 1e14


class _Interval(msgspec.Struct, forbid_unknown_fields=True):
    readIntervalLength: Any = UNSET
    aggregateValue: msgspec.Raw | UnsetType = UNSET
    intervalReads: msgspec.Raw | UnsetType = UNSET
    readQualities: Any = UNSET


class _Read(msgspec.Struct, forbid_unknown_fields=True):
    """The members of EnergyUsageRead (v1.36.0); any other key sends a read the exact way."""

    servicePointId: Any = UNSET
    registerId: Any = UNSET
    registerSuffix: Any = UNSET
    meterId: Any = UNSET
    controlledLoad: Any = UNSET
    readStartDate: Any = UNSET
    readEndDate: Any = UNSET
    unitOfMeasure: Any = UNSET
    readUType: Any = UNSET
    basicRead: Any = UNSET
    intervalRead: _Interval | UnsetType | None = UNSET


_DECODE_READ = msgspec.json.Decoder(_Read).decode
_DECODE_ANY = msgspec.json.Decoder().decode
_DECODE_FLOATS = msgspec.json.Decoder(list[float]).decode


class PlainRead(msgspec.Struct):
    """A read as plain values (null members left out) and the texts its sum is proved from."""

    value: dict[str, Any]
    reads_text: bytes | None
    aggregate_text: bytes | None


def plain_read(text: bytes) -> PlainRead | None:
    """``text`` decoded, or None when only the exact path may judge it."""
    if b"\\" in text:
        return None
    try:
        read = _DECODE_READ(text)
    except (msgspec.DecodeError, RecursionError):
        return None
    plain = _plain(read)
    if plain is None or plain[1] != len(_KEY_END.findall(text)):
        return None  # a key held twice (the decoder kept the last), or for the exact path
    interval = read.intervalRead
    if isinstance(interval, _Interval):
        return PlainRead(plain[0], _text(interval.intervalReads), _text(interval.aggregateValue))
    return PlainRead(plain[0], None, None)


def _text(raw: msgspec.Raw | UnsetType) -> bytes | None:
    return None if raw is UNSET else bytes(raw)


def _plain(struct: _Read | _Interval) -> tuple[dict[str, Any], int] | None:
    """``struct`` as a plain dict without its null members, and how many keys it and its
    members held; None when a member is for the exact path to judge."""
    keys = 0
    value: dict[str, Any] = {}
    for name in struct.__struct_fields__:
        member = getattr(struct, name)
        if member is UNSET:
            continue
        keys += 1
        if isinstance(member, _Interval):
            inner = _plain(member)
            if inner is None:
                return None
            member, more = inner
            keys += more
            value[name] = member
            continue
        if isinstance(member, msgspec.Raw):
            try:
                member = (_DECODE_FLOATS if name == "intervalReads" else _DECODE_ANY)(member)
            except msgspec.DecodeError:  # not numbers, or too large for a float
                return None
        if isinstance(member, (dict, list)) and name != "intervalReads":  # floats: no keys
            more = _keys(member)
            if more < 0:
                return None
            keys += more
        if member is not None:
            value[name] = member
    return value, keys


def _keys(value: dict[str, Any] | list[Any]) -> int:
    """How many keys the objects in ``value`` hold; -1 if one holds a null (which the exact
    path drops)."""
    total = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            total += len(item)
            for member in item.values():
                if member is None:
                    return -1
                if isinstance(member, (dict, list)):
                    stack.append(member)
        elif isinstance(item, list):
            stack.extend(member for member in item if isinstance(member, (dict, list)))
    return total


def sum_holds(
    values: list[float], values_text: bytes, aggregate: float, aggregate_text: bytes
) -> bool:
    """Whether ``aggregate`` is surely the exact decimal sum of the values, judged from floats.

    Every number here is a decimal with at most ``places`` places (the texts say how many), so
    the exact sum S and the aggregate a are multiples of 10**-places, and equal when
    |S - a| < 0.5 * 10**-places. Each float is within 2**-53 of its decimal relative to it, and
    fsum rounds once more, so |fsum - S| <= 2**-52 * n * max|value|; the bound on the scaled
    magnitudes keeps that under 0.05 * 10**-places, so |fsum - a| <= 0.25 * 10**-places proves
    S = a. Anything else (an exponent, more places than floats resolve, huge values) is for the
    exact Decimal sum to judge.
    """
    shape = number_shape(values_text)
    aggregate_shape = number_shape(aggregate_text)
    if shape is None or aggregate_shape is None:
        return False
    places = max(shape[0], aggregate_shape[0])
    # No value has more digits before the point than the longest run of digits.
    largest = 10.0 ** shape[1]
    scale = 10.0**places
    if (len(values) * largest + abs(aggregate)) * scale >= _SAFE_SCALED:
        return False
    return abs(math.fsum(values) - aggregate) * scale <= 0.25
