"""Experiments 12 and 14: one record per register, its days as a matrix of integers.

The standard repeats a register's identity on every day and writes each value as a decimal
(``0.036``). Here a register's days share one record, and the values are integers in the
register's smallest unit: ``36`` at scale 3, which is watt-hours for kWh read to three decimals.
The scale is found exactly per register (the most decimals any of its values has); a register
whose values are too large to scale exactly keeps its decimals (``scale`` absent). Values keep
the file's sign: export is positive, its suffix says export.

Exactness: a value is the float nearest its decimal D (at most ``scale`` places), and
N = D x 10**scale is an integer. ``round(v * 10**scale)`` is N while N < 2**50 (the float
errors stay far below one half), and ``N / 10**scale`` is correctly rounded by IEEE division
(both exact floats), so it is the float nearest D: the value itself.
"""

from __future__ import annotations

import itertools
import operator
from datetime import date, timedelta
from decimal import Decimal

import msgspec

from nem2cdr.cdr_model import Quality
from nem2cdr_experiments.data import DayRead, QualityRange, UsageData
from nem2cdr_experiments.json_numbers import number_array

_EXACT_LIMIT = float(2**50)  # largest scaled magnitude that scales and unscales exactly
_MAX_SCALE = 22  # 10**22 is the largest power of ten a float holds exactly
_encode = msgspec.json.Encoder().encode
_matrix = msgspec.json.Decoder(list[list[float]]).decode


class Register(msgspec.Struct, rename="camel", omit_defaults=True):
    service_point_id: str
    register_suffix: str
    read_interval_length: int
    dates: list[tuple[str, int]]  # runs of consecutive days, latest first: (latest day, days)
    reads: msgspec.Raw  # a number array per day, in the order ``dates`` gives
    register_id: str = ""
    meter_id: str = ""
    unit_of_measure: str = ""
    scale: int | None = None  # values are integers x 10**-scale; absent: plain decimals
    read_qualities: list[tuple[int, int, int, Quality]] = []  # (day index, start, end, quality)


class _Data(msgspec.Struct):
    registers: list[Register]


class _Payload(msgspec.Struct):
    data: _Data


_decode = msgspec.json.Decoder(_Payload).decode
RegisterKey = tuple[str, str, str, str, str, int]


def by_register(data: UsageData) -> dict[RegisterKey, list[DayRead]]:
    """Each register's reads (latest day first), registers in the order they first appear."""
    registers: dict[RegisterKey, list[DayRead]] = {}
    for read in data.reads:
        key = (
            read.nmi,
            read.register_id,
            read.suffix,
            read.meter_serial,
            read.uom,
            read.interval_length,
        )
        registers.setdefault(key, []).append(read)
    return registers


def in_standard_order(reads: list[DayRead]) -> list[DayRead]:
    """NMI ascending, date descending, suffix ascending (as ``data.from_days`` orders them)."""
    reads.sort(key=operator.attrgetter("suffix"))
    reads.sort(key=operator.attrgetter("date"), reverse=True)
    reads.sort(key=operator.attrgetter("nmi"))
    return reads


def scale_of(reads: list[DayRead]) -> int | None:
    """The most decimals any value has, if every value scales to an exact integer by it."""
    places = 0
    largest = 0.0
    for read in reads:
        found = read.places
        if found is None:  # exponent form (1e-05) or more than 9 decimals: count them exactly
            found = places_of_each(read.values)
            if found is None:
                return None
        elif found == 1 and b"." not in number_array(read.values):
            found = 0  # decimal_places counts the ".0" of whole numbers
        places = max(places, found)
        if read.values:
            largest = max(largest, max(read.values), -min(read.values))
    if places > _MAX_SCALE:  # checked first: float(10**places) overflows past 10**308
        return None
    return places if largest * float(10**places) < _EXACT_LIMIT else None


def places_of_each(values: list[float]) -> int | None:
    """The most decimals of any value, one by one (the rare path); None for NaN or infinity."""
    places = 0
    for value in values:
        exponent = Decimal(repr(value)).as_tuple().exponent
        if not isinstance(exponent, int):
            return None
        places = max(places, -exponent)
    return places


def date_runs(reads: list[DayRead]) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    previous: date | None = None
    for read in reads:
        day = date.fromisoformat(read.date)
        if previous is not None and day == previous - timedelta(days=1):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((read.date, 1))
        previous = day
    return runs


def dates_of(runs: list[tuple[str, int]]) -> list[str]:
    dates: list[str] = []
    for latest, count in runs:
        day = date.fromisoformat(latest)
        dates.extend((day - timedelta(days=back)).isoformat() for back in range(count))
    return dates


def deltas(numbers: list[int]) -> list[int]:
    """The first number, then each number less the one before it."""
    return [*numbers[:1], *map(operator.sub, numbers[1:], numbers)]


def encode(data: UsageData, *, delta: bool) -> bytes:
    registers = []
    for (nmi, register_id, suffix, serial, uom, length), reads in by_register(data).items():
        scale = scale_of(reads)
        if scale is None:
            matrix = b"[" + b",".join(number_array(read.values) for read in reads) + b"]"
        else:
            factor = float(10**scale)
            rows = [list(map(round, map(factor.__mul__, read.values))) for read in reads]
            matrix = _encode(list(map(deltas, rows)) if delta else rows)
        qualities = [
            (index, q.start, q.end, q.quality)
            for index, read in enumerate(reads)
            for q in read.qualities
        ]
        registers.append(
            Register(
                service_point_id=nmi,
                register_suffix=suffix,
                read_interval_length=length,
                dates=date_runs(reads),
                reads=msgspec.Raw(matrix),
                register_id=register_id,
                meter_id=serial,
                unit_of_measure=uom,
                scale=scale,
                read_qualities=qualities,
            )
        )
    return _encode(_Payload(_Data(registers)))


def decode(payload: bytes, source: str, *, delta: bool) -> UsageData:
    reads: list[DayRead] = []
    for register in _decode(payload).data.registers:
        qualities: dict[int, list[QualityRange]] = {}
        for index, start, end, quality in register.read_qualities:
            qualities.setdefault(index, []).append(QualityRange(start, end, quality))
        dates = dates_of(register.dates)
        unscale = None if register.scale is None else float(10**register.scale).__rtruediv__
        for index, (day, values) in enumerate(zip(dates, _matrix(register.reads), strict=True)):
            if unscale is not None:
                if delta:
                    values = list(itertools.accumulate(values))  # integer floats: exact
                values = list(map(unscale, values))
            reads.append(
                DayRead(
                    register.service_point_id,
                    register.register_id,
                    register.register_suffix,
                    register.meter_id,
                    register.unit_of_measure,
                    register.read_interval_length,
                    day,
                    values,
                    qualities.get(index, []),
                )
            )
    return UsageData(source, in_standard_order(reads))
