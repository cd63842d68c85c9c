"""What the thread's experiments 01-07 share: their records, read forms and range strings.

Two record shapes: 00's flat record (one per register per day, ``FlatShape``) and the nested one
(one per NMI per day, registers under their suffix, ``NestedShape``). Inside either, a ``Form``
writes one register's day of reads: 00's read objects or plain numbers, with or without the zero
reads. Positions are written as the thread's script wrote them: one string of comma-joined ranges
in a list, a single position standing alone (``["1-31,59,61-96"]``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from itertools import compress, groupby
from typing import ClassVar, Generic, NamedTuple, TypeVar

import msgspec

from nem2cdr.exact import Number
from nem2cdr_experiments.base import Experiment
from nem2cdr_experiments.data import DayRead, QualityRange, UsageData
from nem2cdr_experiments.json_numbers import (
    floats,
    negated,
    number_array,
    number_tokens,
)

Run = tuple[int, int]  # 1-based positions, inclusive
T = TypeVar("T")

# -- range strings -------------------------------------------------------------------------


def range_strings(runs: Iterable[Run]) -> list[str]:
    """``[(1, 31), (59, 59)]`` -> ``["1-31,59"]``; no runs, no string."""
    text = ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)
    return [text] if text else []


def runs_from(strings: list[str]) -> list[Run]:
    runs: list[Run] = []
    for item in ",".join(strings).split(","):
        if item:
            first, _, last = item.partition("-")
            runs.append((int(first), int(last or first)))
    return runs


def quality_strings(qualities: list[QualityRange]) -> tuple[list[str], list[str]]:
    """``final_substitutes`` and ``substitutes``: the thread had the first; the second keeps
    SUBSTITUTE intervals, which the thread's script dropped."""
    final = range_strings((q.start, q.end) for q in qualities if q.quality == "FINAL_SUBSTITUTE")
    other = range_strings((q.start, q.end) for q in qualities if q.quality == "SUBSTITUTE")
    return final, other


def qualities_from(final: list[str], substitutes: list[str]) -> list[QualityRange]:
    ranges = [QualityRange(a, b, "FINAL_SUBSTITUTE") for a, b in runs_from(final)]
    ranges += [QualityRange(a, b, "SUBSTITUTE") for a, b in runs_from(substitutes)]
    ranges.sort(key=lambda q: q.start)
    return ranges


# -- zero reads ----------------------------------------------------------------------------

_ONES = re.compile(rb"\x01+")
_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")


def zero_runs(values: list[float], kept: list[QualityRange]) -> tuple[bytearray, list[Run]]:
    """A keep mask (1 = kept) and the runs of zero reads outside ``kept``, found at C speed."""
    zero = bytearray(map(operator.not_, values))
    for q in kept:
        zero[q.start - 1 : q.end] = bytes(q.end - q.start + 1)
    return zero.translate(_FLIP), [(m.start() + 1, m.end()) for m in _ONES.finditer(zero)]


def with_removed(kept: list[T], removed: list[Run], fill: T) -> list[T]:
    """``kept`` with ``fill`` put back at the removed positions."""
    out: list[T] = []
    taken = 0
    for first, last in removed:
        gap = first - 1 - len(out)
        out += kept[taken : taken + gap]
        taken += gap
        out += [fill] * (last - first + 1)
    out += kept[taken:]
    return out


# -- read forms ----------------------------------------------------------------------------

_OBJECT = b'{"value":%b}'
_OBJECT_WITH = {
    q: b'{"value":%b,"quality":"' + q.encode() + b'"}' for q in ("SUBSTITUTE", "FINAL_SUBSTITUTE")
}


class _Value(msgspec.Struct):
    value: float
    quality: str | None = None


_decode_objects = msgspec.json.Decoder(list[_Value]).decode


def runs_of(marks: list[str | None]) -> list[QualityRange]:
    ranges: list[QualityRange] = []
    for index, quality in enumerate(marks, 1):
        if quality is None or quality == "ACTUAL":
            continue
        if ranges and ranges[-1].quality == quality and ranges[-1].end == index - 1:
            ranges[-1] = QualityRange(ranges[-1].start, index, ranges[-1].quality)
        else:
            ranges.append(QualityRange(index, index, quality))  # type: ignore[arg-type]
    return ranges


def read_objects(read: DayRead) -> list[bytes]:
    """00's ``{"value": v}`` per interval, with ``"quality"`` where not actual."""
    tokens = number_tokens(read.signed_text)
    if not tokens:
        return []
    # One join and one split build every plain object (numbers never hold a NUL byte).
    objects = (b'{"value":' + b'}\0{"value":'.join(tokens) + b"}").split(b"\0")
    for q in read.qualities:
        span = slice(q.start - 1, q.end)
        objects[span] = map(_OBJECT_WITH[q.quality].__mod__, tokens[span])
    return objects


class Reads(NamedTuple):
    array: msgspec.Raw
    final_substitutes: list[str]
    substitutes: list[str]
    removed_reads: list[str] | None  # None: the form keeps every read


# msgspec leaves out a Raw default only when it is this very object (equal is not enough).
_ABSENT = msgspec.Raw()
_NO_READS = Reads(_ABSENT, [], [], None)  # 03: the aggregate alone


class Form(NamedTuple):
    """How one register's day of reads is written (values signed as written: export negative)."""

    objects: bool  # 00's read objects with their quality, or plain numbers and range strings
    without_zeros: bool  # zero reads left out, their positions in ``removedReads``

    def write(self, read: DayRead) -> Reads:
        removed: list[str] | None = None
        values, qualities = read.signed_values, read.qualities
        if self.objects:
            items = read_objects(read)
            if self.without_zeros:
                # A read object carries its quality, so a substituted zero stays.
                keep, runs = zero_runs(values, qualities)
                items, removed = list(compress(items, keep)), range_strings(runs)
            return Reads(msgspec.Raw(b"[" + b",".join(items) + b"]"), [], [], removed)
        if not self.without_zeros:
            return Reads(msgspec.Raw(read.signed_text), *quality_strings(qualities), None)
        keep, runs = zero_runs(values, [])
        kept = number_array(list(compress(values, keep)))
        return Reads(msgspec.Raw(kept), *quality_strings(qualities), range_strings(runs))

    def read(self, array: msgspec.Raw, day: _Day) -> tuple[list[float], list[QualityRange]]:
        removed = runs_from(day.removed_reads or [])
        if not self.objects:
            values = with_removed(floats(array), removed, 0.0)
            return values, qualities_from(day.final_substitutes, day.substitutes)
        text = bytes(array)
        if b'"quality"' not in text:  # no quality at all: strip the objects, decode in C
            numbers = text.replace(b'{"value":', b"").replace(b"}", b"")
            return with_removed(floats(numbers), removed, 0.0), []
        items = _decode_objects(array)
        values = with_removed([item.value for item in items], removed, 0.0)
        marks = with_removed([item.quality for item in items], removed, None)
        return values, runs_of(marks)


# -- records -------------------------------------------------------------------------------


class _Day(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What both record shapes say about one register's day besides the reads themselves."""

    aggregate_value: Number = msgspec.field(name="aggregateValue")
    final_substitutes: list[str] = msgspec.field(default_factory=list)
    substitutes: list[str] = msgspec.field(default_factory=list)
    removed_reads: list[str] | None = msgspec.field(name="removedReads", default=None)


class Interval(_Day, kw_only=True, omit_defaults=True):
    read_interval_length: int = msgspec.field(name="readIntervalLength")
    interval_reads: msgspec.Raw = msgspec.field(name="intervalReads", default=_ABSENT)


class FlatRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    service_point_id: str = msgspec.field(name="servicePointId")
    register_id: str = msgspec.field(name="registerId")
    register_suffix: str = msgspec.field(name="registerSuffix")
    meter_id: str = msgspec.field(name="meterID")
    read_start_date: str = msgspec.field(name="readStartDate")
    unit_of_measure: str | None = msgspec.field(name="unitOfMeasure", default=None)
    read_u_type: str = msgspec.field(name="readUType")
    interval_read: Interval = msgspec.field(name="intervalRead")


class Register(_Day, kw_only=True, omit_defaults=True):
    register_id: str = msgspec.field(name="registerId")
    suffix: str
    meter_id: str = msgspec.field(name="meterID")
    unit_of_measure: str = msgspec.field(name="unitOfMeasure")
    # Only where it differs from the day's (registers of one NMI with different intervals).
    read_interval_length: int | None = msgspec.field(name="readIntervalLength", default=None)
    reads: msgspec.Raw


class NestedInterval(msgspec.Struct):
    read_interval_length: int = msgspec.field(name="readIntervalLength")
    interval_reads: dict[str, Register] = msgspec.field(name="intervalReads")


class NestedRecord(msgspec.Struct):
    service_point_id: str = msgspec.field(name="servicePointId")
    read_start_date: str = msgspec.field(name="readStartDate")
    read_u_type: str = msgspec.field(name="readUType")
    interval_read: NestedInterval = msgspec.field(name="intervalRead")


R = TypeVar("R")


class _Reads(msgspec.Struct, Generic[R]):
    reads: list[R]


class _Payload(msgspec.Struct, Generic[R]):
    data: _Reads[R]


_encode = msgspec.json.Encoder().encode
_decode_flat = msgspec.json.Decoder(_Payload[FlatRecord]).decode
_decode_nested = msgspec.json.Decoder(_Payload[NestedRecord]).decode


def signed(values: list[float], suffix: str) -> list[float]:
    """Export (suffix B...) is written negative, as in 00; the same call undoes it."""
    return negated(values) if suffix.startswith("B") else values


class FlatShape(Experiment):
    """00's records, one per register per day; ``form`` writes the reads (None: none at all)."""

    form: ClassVar[Form | None]
    unit_of_measure: ClassVar[bool] = True

    def encode(self, data: UsageData) -> bytes:
        return _encode(_Payload(_Reads([self._record(read) for read in data.reads])))

    def _record(self, read: DayRead) -> FlatRecord:
        reads = self.form.write(read) if self.form else _NO_READS
        interval = Interval(
            aggregate_value=read.aggregate,
            final_substitutes=reads.final_substitutes,
            substitutes=reads.substitutes,
            removed_reads=reads.removed_reads,
            read_interval_length=read.interval_length,
            interval_reads=reads.array,
        )
        return FlatRecord(
            service_point_id=read.nmi,
            register_id=read.register_id,
            register_suffix=read.suffix,
            meter_id=read.meter_serial,
            read_start_date=read.date,
            unit_of_measure=read.uom if self.unit_of_measure else None,
            read_u_type="intervalRead",
            interval_read=interval,
        )

    def decode(self, payload: bytes, source: str) -> UsageData:
        if self.form is None:
            return super().decode(payload, source)
        reads = []
        for record in _decode_flat(payload).data.reads:
            interval = record.interval_read
            values, qualities = self.form.read(interval.interval_reads, interval)
            reads.append(
                DayRead(
                    record.service_point_id,
                    record.register_id,
                    record.register_suffix,
                    record.meter_id,
                    record.unit_of_measure or "",
                    interval.read_interval_length,
                    record.read_start_date,
                    signed(values, record.register_suffix),
                    qualities,
                )
            )
        return UsageData(source, reads)


class NestedShape(Experiment):
    """One record per NMI per day, its registers under their suffix; ``form`` writes the reads."""

    form: ClassVar[Form]

    def encode(self, data: UsageData) -> bytes:
        records = []
        for (nmi, date), group in groupby(data.reads, key=lambda read: (read.nmi, read.date)):
            reads = list(group)
            length = reads[0].interval_length
            registers = {read.suffix: self._register(read, length) for read in reads}
            interval = NestedInterval(length, registers)
            records.append(NestedRecord(nmi, date, "intervalRead", interval))
        return _encode(_Payload(_Reads(records)))

    def _register(self, read: DayRead, length: int) -> Register:
        reads = self.form.write(read)
        return Register(
            register_id=read.register_id,
            suffix=read.suffix,
            meter_id=read.meter_serial,
            unit_of_measure=read.uom,
            aggregate_value=read.aggregate,
            read_interval_length=None if read.interval_length == length else read.interval_length,
            final_substitutes=reads.final_substitutes,
            substitutes=reads.substitutes,
            reads=reads.array,
        )

    def decode(self, payload: bytes, source: str) -> UsageData:
        reads = []
        for record in _decode_nested(payload).data.reads:
            interval = record.interval_read
            # The input's order within a day is suffix ascending, whatever order the keys came in.
            for suffix, register in sorted(interval.interval_reads.items()):
                values, qualities = self.form.read(register.reads, register)
                reads.append(
                    DayRead(
                        record.service_point_id,
                        register.register_id,
                        suffix,
                        register.meter_id,
                        register.unit_of_measure,
                        register.read_interval_length or interval.read_interval_length,
                        record.read_start_date,
                        signed(values, suffix),
                        qualities,
                    )
                )
        return UsageData(source, reads)
