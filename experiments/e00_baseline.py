"""00 baseline: the pre-2022 standard's shape, one ``{"value": v}`` object per interval."""

from __future__ import annotations

import msgspec

from experiments.base import Experiment, register
from experiments.data import DayRead, QualityRange, UsageData
from experiments.json_numbers import negated, number_tokens
from nem2cdr.exact import decimal_places, exact_sum

_encode = msgspec.json.Encoder().encode
_QUALITY_END = {q: b',"quality":"' + q.encode() + b'"}' for q in ("SUBSTITUTE", "FINAL_SUBSTITUTE")}


class _Value(msgspec.Struct):
    value: float
    quality: str = "ACTUAL"


class _Interval(msgspec.Struct, rename="camel"):
    read_interval_length: int
    interval_reads: list[_Value]


class _Read(msgspec.Struct, rename="camel"):
    service_point_id: str
    register_id: str
    register_suffix: str
    read_start_date: str
    interval_read: _Interval
    meter_i_d: str = msgspec.field(name="meterID", default="")


class _Data(msgspec.Struct):
    reads: list[_Read]


class _Payload(msgspec.Struct):
    data: _Data


_decode = msgspec.json.Decoder(_Payload).decode


def quality_per_interval(read: DayRead) -> list[str | None]:
    marks: list[str | None] = [None] * len(read.values)
    for q in read.qualities:
        marks[q.start - 1 : q.end] = [q.quality] * (q.end - q.start + 1)
    return marks


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


@register
class Baseline(Experiment):
    id = "00"
    name = "baseline"
    rationale = "the thread's starting point: the pre-2022 shape with a read object per interval"

    def encode(self, data: UsageData) -> bytes:
        parts = [b'{"data":{"reads":[']
        for index, read in enumerate(data.reads):
            values = negated(read.values) if read.export else read.values
            head = _encode({
                "servicePointId": read.nmi, "registerId": read.register_id,
                "registerSuffix": read.suffix, "meterID": read.meter_serial,
                "readStartDate": read.date, "unitOfMeasure": read.uom,
                "readUType": "intervalRead",
            })  # fmt: skip
            aggregate = exact_sum(read.values, decimal_places(read.values), read.export)
            marks = quality_per_interval(read)
            reads = b",".join(
                b'{"value":'
                + token
                + (b"}" if mark is None else b',"quality":"' + mark.encode() + b'"}')
                for token, mark in zip(number_tokens(values), marks, strict=True)
            )
            interval = (
                b'"intervalRead":{"readIntervalLength":' + str(read.interval_length).encode()
                + b',"aggregateValue":' + _encode(aggregate) + b',"intervalReads":[' + reads + b"]}"
            )  # fmt: skip
            parts.append((b"," if index else b"") + head[:-1] + b"," + interval + b"}")
        parts.append(b"]}}")
        return b"".join(parts)

    def decode(self, payload: bytes, source: str) -> UsageData:
        reads = []
        for read in _decode(payload).data.reads:
            interval = read.interval_read
            values = [item.value for item in interval.interval_reads]
            if read.register_suffix.startswith("B"):
                values = negated(values)
            marks: list[str | None] = [item.quality for item in interval.interval_reads]
            reads.append(DayRead(
                read.service_point_id, read.register_id, read.register_suffix, read.meter_i_d,
                "", interval.read_interval_length, read.read_start_date, values, runs_of(marks),
            ))  # fmt: skip
        return UsageData(source, reads)
