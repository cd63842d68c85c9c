"""The data every experiment encodes: one register's reads for one day, in the standard's order.

Experiments must carry this exactly (the lossless ones); the round trip compares it whole:
registers, dates, interval length, values (the file's decimals) and per-interval quality.
Values keep the file's sign; an experiment that writes export as negative numbers must
restore it when decoding.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

import nem2cdr
from nem2cdr.cdr_model import Quality
from nem2cdr.fields import stamp
from nem2cdr.latest import Copy, wins
from nem2cdr.model import IntervalDay
from nem2cdr.sources import Source
from nem2cdr.usage import read_qualities, span_runs


class QualityRange(msgspec.Struct, frozen=True, array_like=True):
    start: int  # 1-based, inclusive
    end: int
    quality: Quality  # SUBSTITUTE or FINAL_SUBSTITUTE: actual intervals are not listed


class DayRead(msgspec.Struct, frozen=True):
    nmi: str
    register_id: str
    suffix: str
    meter_serial: str
    uom: str
    interval_length: int
    date: str  # YYYY-MM-DD
    values: list[float]
    qualities: list[QualityRange]  # maximal runs of equal non-actual quality

    @property
    def export(self) -> bool:
        return self.suffix.startswith("B")


class UsageData(msgspec.Struct, frozen=True):
    source: str
    reads: list[DayRead]  # NMI ascending, date descending, suffix ascending

    @property
    def values(self) -> int:
        return sum(len(read.values) for read in self.reads)


def quality_ranges(day: IntervalDay) -> list[QualityRange]:
    return [
        QualityRange(q.start_interval, q.end_interval, q.quality)
        for q in read_qualities(span_runs(day.qualities))
    ]


def from_days(source: str, days: Iterable[IntervalDay]) -> UsageData:
    """The latest copy of each (NMI, suffix, date), in the standard's order."""
    latest: dict[tuple[str, str, str], tuple[Copy, DayRead]] = {}
    for position, day in enumerate(days):
        stream = day.stream
        read = DayRead(
            stream.nmi,
            stream.register_id,
            stream.suffix,
            stream.meter_serial,
            stream.uom,
            stream.interval_length,
            day.date.isoformat(),
            day.values,
            quality_ranges(day),
        )
        key = (stream.nmi, stream.suffix, read.date)
        copy = Copy(stamp(day.update_datetime) if day.update_datetime else 0, position)
        held = latest.get(key)
        if held is None or wins(copy, held[0]):
            latest[key] = (copy, read)
    reads = [read for _, read in latest.values()]
    # Stable sorts, last key first: NMI ascending, date descending, suffix ascending.
    reads.sort(key=lambda r: r.suffix)
    reads.sort(key=lambda r: r.date, reverse=True)
    reads.sort(key=lambda r: r.nmi)
    return UsageData(source, reads)


class LoadError(ValueError):
    """The file has errors: experiments on a partly read file would mislead."""


def load(source: Source) -> UsageData:
    """Read a NEM12 file into the experiments' data; refuses files with errors."""
    reader = nem2cdr.read(source)
    days = [record for record in reader if isinstance(record, IntervalDay)]
    if not reader.diagnostics.ok:
        first = reader.diagnostics.errors[0]
        raise LoadError(f"{first} (errors in the file: {reader.diagnostics.error_count})")
    if not days:
        raise LoadError(f"{reader.name}: no interval data (NEM12 300 records) to encode")
    return from_days(reader.name, days)
