"""The adopted standard's shapes (experiments 08-10), built with nem2cdr's own payload model."""

from __future__ import annotations

import io
from typing import ClassVar

import msgspec

from nem2cdr.cdr_model import (
    ENCODER,
    EnergyUsageRead,
    IntervalReadPayload,
    IntervalReadsMode,
    MetaPaginated,
)
from nem2cdr.exact import group_sums
from nem2cdr.pages import links, page_count, write_response
from nem2cdr.usage import DEFAULT_BASE_URL, QualityRun, read_qualities
from nem2cdr_experiments.base import Experiment, NotApplicable
from nem2cdr_experiments.data import DayRead, QualityRange, Totals, UsageData, totals_of
from nem2cdr_experiments.json_numbers import negated, number_array


def cdr_read(read: DayRead, mode: IntervalReadsMode) -> EnergyUsageRead:
    negate = read.export
    payload = IntervalReadPayload(aggregate_value=read.aggregate)
    if mode == "FULL":
        payload.read_interval_length = read.interval_length
        payload.interval_reads = msgspec.Raw(read.signed_text)
        payload.read_qualities = read_qualities(_runs(read))
    elif mode == "MIN_30":
        if 30 % read.interval_length:
            raise NotApplicable(
                f"MIN_30 needs interval lengths that divide 30; {read.nmi} {read.suffix} has "
                f"{read.interval_length} minutes"
            )
        size = 30 // read.interval_length
        payload.read_interval_length = read.interval_length * size
        sums = group_sums(read.values, size, read.places, negate)
        exact = all(isinstance(value, float) for value in sums)
        payload.interval_reads = msgspec.Raw(number_array(sums)) if exact else sums  # type: ignore[arg-type]
        payload.read_qualities = read_qualities(_runs(read), size)
    return EnergyUsageRead(
        service_point_id=read.nmi,
        register_id=read.register_id or None,
        register_suffix=read.suffix,
        meter_id=read.meter_serial or None,
        read_start_date=read.date,
        read_end_date=read.date,
        unit_of_measure=read.uom or None,
        read_utype="intervalRead",
        interval_read=payload,
    )


def _runs(read: DayRead) -> list[QualityRun]:
    return [(q.start, q.end, q.quality) for q in read.qualities]


def bodies(reads: list[DayRead], mode: IntervalReadsMode) -> list[bytes]:
    return [ENCODER.encode(cdr_read(read, mode)) for read in reads]


def wrapped(
    records: list[bytes], totals: Totals, mode: IntervalReadsMode, page_size: int | None = None
) -> bytes:
    """A response around encoded records: the whole list (``page_size`` None) or its first
    page, its links and meta counting ``totals``' reads."""
    query: dict[str, str] = {} if mode == "NONE" else {"interval-reads": mode}
    pages = page_count(totals.reads, page_size or max(totals.reads, 1))  # whole: one page
    buffer = io.BytesIO()
    page_links = links(DEFAULT_BASE_URL, query, 1 if page_size else None, page_size, pages)
    meta = MetaPaginated(total_records=totals.reads, total_pages=pages)
    write_response(buffer, records, page_links, meta)
    return buffer.getvalue()


def response(data: UsageData, mode: IntervalReadsMode) -> bytes:
    return wrapped(bodies(data.reads, mode), totals_of(data), mode)


def first_page(first: UsageData, totals: Totals, mode: IntervalReadsMode, page_size: int) -> bytes:
    return wrapped(bodies(first.reads[:page_size], mode), totals, mode, page_size)


_MARK = b"\0"  # a record no encoder writes: where the records go


def response_frame(totals: Totals, mode: IntervalReadsMode) -> tuple[bytes, bytes]:
    head, _, tail = wrapped([_MARK], totals, mode).partition(_MARK)
    return head, tail


class _Quality(msgspec.Struct):
    start_interval: int = msgspec.field(name="startInterval")
    end_interval: int = msgspec.field(name="endInterval")
    quality: str


class _Interval(msgspec.Struct):
    read_interval_length: int = msgspec.field(name="readIntervalLength")
    interval_reads: list[float] = msgspec.field(name="intervalReads")
    read_qualities: list[_Quality] = msgspec.field(name="readQualities")


class _Read(msgspec.Struct):
    service_point_id: str = msgspec.field(name="servicePointId")
    register_suffix: str = msgspec.field(name="registerSuffix")
    read_start_date: str = msgspec.field(name="readStartDate")
    interval_read: _Interval = msgspec.field(name="intervalRead")
    register_id: str = msgspec.field(name="registerId", default="")
    meter_id: str = msgspec.field(name="meterId", default="")
    unit_of_measure: str = msgspec.field(name="unitOfMeasure", default="")


class _Data(msgspec.Struct):
    reads: list[_Read]


class _Response(msgspec.Struct):
    data: _Data


_DECODE_FULL = msgspec.json.Decoder(_Response).decode


def decode_full(payload: bytes, source: str) -> UsageData:
    reads = []
    for read in _DECODE_FULL(payload).data.reads:
        interval = read.interval_read
        values = interval.interval_reads
        if read.register_suffix.startswith("B"):
            values = negated(values)
        qualities = [
            QualityRange(q.start_interval, q.end_interval, q.quality)  # type: ignore[arg-type]
            for q in interval.read_qualities
        ]
        reads.append(
            DayRead(
                read.service_point_id,
                read.register_id,
                read.register_suffix,
                read.meter_id,
                read.unit_of_measure,
                interval.read_interval_length,
                read.read_start_date,
                values,
                qualities,
            )
        )
    return UsageData(source, reads)


class CdrShape(Experiment):
    """A response of the adopted standard in one ``interval-reads`` mode."""

    mode: ClassVar[IntervalReadsMode]

    def encode(self, data: UsageData) -> bytes:
        return response(data, self.mode)

    def frame(self, totals: Totals) -> tuple[bytes, bytes]:
        return response_frame(totals, self.mode)

    def encode_part(self, part: UsageData) -> bytes:
        return b",".join(bodies(part.reads, self.mode))

    def first_page(self, first: UsageData, totals: Totals, page_size: int) -> bytes | None:
        return first_page(first, totals, self.mode, page_size)
