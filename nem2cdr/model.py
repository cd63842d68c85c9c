"""The one typed model of NEM12/NEM13 data that every consumer reads.

Values are floats whose shortest representation (``repr``) is the decimal written in the file:
the reader only accepts decimals that a float carries exactly that way (at most 15 significant
digits, which covers the spec's NUM(15,5)), so ``Decimal(repr(v))`` is the file's number.
Per-interval quality is held as ranges (``QualitySpan``) covering 1..N, not as one object per
interval: a whole-day flag is one span, a ``V`` day has one span per 400 record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

Severity = Literal["error", "warning"]


class Header(msgspec.Struct, frozen=True, gc=False):
    """A 100 record (or the one the reader assumed when the file has none)."""

    version: str  # "NEM12" or "NEM13"
    created: datetime | None
    from_participant: str
    to_participant: str
    line: int  # 0 when the header is missing and was assumed


class Stream(msgspec.Struct, frozen=True, gc=False):
    """A 200 record: one data stream of one NMI; every ``IntervalDay`` below it points here."""

    nmi: str
    nmi_configuration: str
    register_id: str
    suffix: str
    stream_id: str  # MDMDataStreamIdentifier
    meter_serial: str
    uom_raw: str  # as written in the file
    uom: str  # normalised to the spec's spelling ("kWh", "kVArh", ...)
    interval_length: int  # minutes
    next_scheduled_read: date | None
    line: int

    @property
    def intervals(self) -> int:
        """Number of intervals in a day (1440 / IntervalLength)."""
        return 1440 // self.interval_length


class QualitySpan(msgspec.Struct, frozen=True, gc=False):
    """Quality of intervals ``start..end`` (1-based, inclusive) of one day."""

    start: int
    end: int
    quality_method: str  # "A", "S53", "F14", "E52", "N", ...
    reason_code: int | None
    reason_description: str
    line: int  # the 300 (whole-day flag) or 400 record it came from

    @property
    def flag(self) -> str:
        """The quality flag letter without the method number."""
        return self.quality_method[:1]


class B2BDetail(msgspec.Struct, frozen=True, gc=False):
    """A 500 record."""

    trans_code: str
    ret_service_order: str
    read_datetime: datetime | None
    index_read: str  # kept as text: a meter index, not a quantity
    line: int


class IntervalDay(msgspec.Struct, gc=False):
    """A 300 record with its 400 and 500 records: one stream's values for one day."""

    stream: Stream
    date: date
    values: list[float]
    quality_method: str  # the 300's QualityMethod; "V" means see ``qualities``
    reason_code: int | None
    reason_description: str
    qualities: tuple[QualitySpan, ...]  # covers 1..N exactly, in order
    update_datetime: datetime | None
    msats_load_datetime: datetime | None
    b2b: tuple[B2BDetail, ...]
    line: int
    # Only from ``read(..., keep_text=True)``: the 300 row's value fields exactly as the file
    # wrote them, commas and all (b"0.036,1.500,..."), so a writer can pass the file's own
    # decimals on without formatting floats again; b"" otherwise, and when the reader had to
    # repair the text (".048").
    values_text: bytes = b""

    def quality_at(self, interval: int) -> QualitySpan:
        """The quality span that holds ``interval`` (1-based)."""
        for span in self.qualities:
            if span.start <= interval <= span.end:
                return span
        raise IndexError(f"interval {interval} outside 1..{len(self.values)}")


class BasicB2B(msgspec.Struct, frozen=True, gc=False):
    """A 550 record."""

    previous_trans_code: str
    previous_ret_service_order: str
    current_trans_code: str
    current_ret_service_order: str
    line: int


class BasicRead(msgspec.Struct, gc=False):
    """A NEM13 250 record with its optional 550."""

    nmi: str
    nmi_configuration: str
    register_id: str
    suffix: str
    stream_id: str
    meter_serial: str
    direction: str  # "E" export from the network to the customer, "I" import to the network
    previous_register_read: float | None
    previous_read_datetime: datetime | None
    previous_quality_method: str
    previous_reason_code: int | None
    previous_reason_description: str
    current_register_read: float | None
    current_read_datetime: datetime | None
    current_quality_method: str
    current_reason_code: int | None
    current_reason_description: str
    quantity: float
    uom_raw: str
    uom: str
    next_scheduled_read: date | None
    update_datetime: datetime | None
    msats_load_datetime: datetime | None
    b2b: BasicB2B | None
    line: int


class Diagnostic(msgspec.Struct, frozen=True, gc=False):
    """One finding, the only kind nem2cdr reports: a stable code, where, and what.

    The code is one of ``nem2cdr.diagnostics.CODES``. Whether it is an error or a warning is
    said by the list that holds it (``Diagnostics.errors``, ``.warnings``): under ``strict``
    a W code is an error.
    """

    code: str  # "NEM12-E012": E = error (data skipped), W = tolerated deviation; "CDR-E005"
    file: str  # the file, "archive.zip:member.csv" for a zip member, or the payload checked
    line: int | None  # None: about the whole file (or a payload, where the path says where)
    where: str | None  # a payload finding's JSON path ("$.data.reads[3].intervalRead"); or
    # "interval 5" for a value, from the value decoder; None for a finding about a whole line
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.code} {self.message}"


class Stats(msgspec.Struct):
    """What a read yielded (only data that was read exactly is counted)."""

    nmis: int = 0
    streams: int = 0
    days: int = 0
    basic_reads: int = 0
    values: int = 0


Record = IntervalDay | BasicRead
