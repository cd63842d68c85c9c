"""13 nem12-text: the same data as the NEM12 file an MDP sends over B2B, read back by nem2cdr.

The file carries what the CDR payload carries: a 200 per register, a 300 per day (days in
ascending order), and 400 records for a day of mixed quality. Actual intervals are ``A``,
substitutes ``S`` and final substitutes ``F``; the reason codes, update times and B2B details
a real file also holds are not in the data, so they stay empty. It is the reference point the
thread's first post measured the CDR payload against.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time

import nem2cdr
from nem2cdr.model import Header, IntervalDay, QualitySpan, Stream
from nem2cdr.writer import write_nem12
from nem2cdr_experiments.base import Experiment, register
from nem2cdr_experiments.columnar import by_register
from nem2cdr_experiments.data import DayRead, Totals, UsageData, from_days, totals_of

_FLAG = {"SUBSTITUTE": "S", "FINAL_SUBSTITUTE": "F"}


def spans(read: DayRead) -> tuple[str, tuple[QualitySpan, ...]]:
    """The 300's QualityMethod and the spans that cover the day (400 records when ``V``)."""
    count = len(read.values)
    if not read.qualities:
        return "A", (QualitySpan(1, count, "A", None, "", 0),)
    first = read.qualities[0]
    if len(read.qualities) == 1 and first.start == 1 and first.end == count:
        flag = _FLAG[first.quality]
        return flag, (QualitySpan(1, count, flag, None, "", 0),)
    covered: list[QualitySpan] = []
    at = 1
    for q in read.qualities:
        if q.start > at:
            covered.append(QualitySpan(at, q.start - 1, "A", None, "", 0))
        covered.append(QualitySpan(q.start, q.end, _FLAG[q.quality], None, "", 0))
        at = q.end + 1
    if at <= count:
        covered.append(QualitySpan(at, count, "A", None, "", 0))
    return "V", tuple(covered)


def interval_days(data: UsageData) -> Iterator[IntervalDay]:
    registers = by_register(data)
    suffixes: dict[str, list[str]] = {}
    for nmi, _, suffix, *_ in registers:
        if suffix not in suffixes.setdefault(nmi, []):
            suffixes[nmi].append(suffix)
    for (nmi, register_id, suffix, serial, uom, length), reads in registers.items():
        stream = Stream(
            nmi,
            "".join(suffixes[nmi]),
            register_id,
            suffix,
            suffix,
            serial,
            uom,
            uom,
            length,
            None,
            0,
        )
        for read in reversed(reads):  # a file lists a stream's days in ascending order
            method, covered = spans(read)
            yield IntervalDay(
                stream,
                date.fromisoformat(read.date),
                read.values,
                method,
                None,
                "",
                covered,
                None,
                None,
                (),
                0,
            )


def header(latest: str) -> Header:
    """Created at the end of the last day: fixed by the data, so the bytes are reproducible."""
    created = datetime.combine(date.fromisoformat(latest or "2000-01-01"), time(23, 59))
    return Header("NEM12", created, "NEM2CDR", "NEM2CDR", 0)


def nem12(days: Iterable[IntervalDay], latest: str) -> bytes:
    out = io.BytesIO()
    write_nem12(out, days, header(latest))
    return out.getvalue()


@register
class Nem12Text(Experiment):
    id = "13"
    name = "nem12-text"
    rationale = (
        "the B2B reference point: the NEM12 file text carrying the same data, as the thread's "
        "first post compared it (no CDR field names at all)"
    )
    suffix = ".csv"
    prepared = ()  # the file's own text: no signed values, no aggregates

    separator = b""  # every record ends its own line

    def encode(self, data: UsageData) -> bytes:
        return nem12(interval_days(data), totals_of(data).latest_date)

    def frame(self, totals: Totals) -> tuple[bytes, bytes]:
        # The 100 line, then the 900 line: what the writer writes around no records.
        empty = nem12([], totals.latest_date)
        first_line = empty.index(b"\n") + 1
        return empty[:first_line], empty[first_line:]

    def decode(self, payload: bytes, source: str) -> UsageData:
        reader = nem2cdr.read(io.BytesIO(payload))
        days = [record for record in reader if isinstance(record, IntervalDay)]
        # A file of no reads is refused by the reader (E001), but it is what no data encodes to.
        errors = [e for e in reader.diagnostics.errors if e.code != "NEM12-E001" or days]
        if errors:
            raise ValueError(str(errors[0]))
        return from_days(source, days)
