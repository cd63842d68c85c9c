"""Write the model back out as spec-conformant MDFF text (NEM12 and NEM13).

The output is what an MDP sends: one 100 header, the records, one 900, CRLF line endings, no
quoting. Values are written as the shortest decimal that reads back as the same float, never in
exponent form, so a file the reader produced the model from is reproduced number for number.
The writer streams: it holds one record at a time plus an output buffer of about a megabyte.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from nem2cdr.model import BasicB2B, BasicRead, Header, IntervalDay, QualitySpan, Stream
from nem2cdr.targets import Target, opened

__all__ = ["format_value", "write", "write_nem12", "write_nem13"]

_EOL = "\r\n"  # AEMO's files use CRLF
_FLUSH_CHARS = 1 << 20  # write to ``out`` in chunks of about this many characters


def format_value(v: float) -> str:
    """The shortest decimal that reads back as ``v``, without exponent and without a bare ``.0``.

    ``3.0`` -> ``"3"``, ``1e-05`` -> ``"0.00001"``, ``1e+16`` -> ``"10000000000000000"``.
    Raises ``ValueError`` for NaN and infinities, which no MDFF field can hold.
    """
    text = repr(v)
    if "e" in text or "n" in text:  # exponent form, or "nan"/"inf"
        if not math.isfinite(v):
            raise ValueError(f"{v!r} cannot be written as a decimal")
        # repr's digits are the shortest round-trip ones; Decimal only moves the point.
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _format_interval_values(values: list[float]) -> str:
    """A 300 row's values joined by commas, with a trailing comma (the next field follows)."""
    # One C-level join covers nearly every row; only the rare rows holding an exponent, a minus
    # sign (-0.0, or a negative value to refuse) or NaN/inf take the per-value path.
    row = ",".join(map(repr, values)) + ","
    if "e" in row or "n" in row or "-" in row:
        return "".join(_interval_value(v) + "," for v in values)
    # repr of a float without exponent always has a fractional part, so ".0," can only be an
    # integer's redundant ".0" (a value like "0.05" never leaves ".0" before a comma).
    return row.replace(".0,", ",")


def _interval_value(v: float) -> str:
    if v < 0:
        raise ValueError(f"negative interval value {v!r}: NEM12 interval values are >= 0")
    return format_value(v)


def _optional_value(v: float | None) -> str:
    return "" if v is None else format_value(v)


def _text(value: str) -> str:
    """A free-text field, refused when it would break the unquoted CSV."""
    if "," in value or "\r" in value or "\n" in value:
        raise ValueError(f"field {value!r} holds a comma or line break, which MDFF cannot quote")
    return value


def _code(reason_code: int | None) -> str:
    return "" if reason_code is None else str(reason_code)


def _date8(d: date | None) -> str:
    return "" if d is None else f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _datetime12(t: datetime) -> str:
    return f"{t.year:04d}{t.month:02d}{t.day:02d}{t.hour:02d}{t.minute:02d}"


def _datetime14(t: datetime | None) -> str:
    if t is None:
        return ""
    return f"{t.year:04d}{t.month:02d}{t.day:02d}{t.hour:02d}{t.minute:02d}{t.second:02d}"


class _Buffered:
    """Collects lines and writes them to the binary stream in large chunks."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._lines: list[str] = []
        self._chars = 0

    def line(self, text: str) -> None:
        self._lines.append(text)
        self._chars += len(text)
        if self._chars >= _FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._out.write(_EOL.join(self._lines).encode("utf-8") + _EOL.encode("ascii"))
            self._lines.clear()
            self._chars = 0


def _header_line(header: Header | None, version: str) -> str:
    if header is None:
        header = Header(version, None, "NEM2CDR", "NEM2CDR", 0)
    elif header.version != version:
        raise ValueError(f"header says {header.version}, but this writes {version}")
    # A header without a time (assumed by the reader) gets the time of writing, as an MDP's would.
    created = header.created or datetime.now()
    return (
        f"100,{version},{_datetime12(created)},"
        f"{_text(header.from_participant)},{_text(header.to_participant)}"
    )


def _stream_line(stream: Stream) -> str:
    fields = (
        stream.nmi,
        stream.nmi_configuration,
        stream.register_id,
        stream.suffix,
        stream.stream_id,
        stream.meter_serial,
        stream.uom,
        str(stream.interval_length),
        _date8(stream.next_scheduled_read),
    )
    return "200," + ",".join(map(_text, fields))


def _check_spans(day: IntervalDay, count: int) -> None:
    """A V day's 400 ranges must cover 1..N exactly and in order (the spec's rule)."""
    expected = 1
    for span in day.qualities:
        if span.start != expected or span.end < span.start:
            break
        expected = span.end + 1
    else:
        if day.qualities and expected == count + 1:
            return
    raise ValueError(f"{day.stream.nmi} {day.date}: quality spans do not cover 1..{count}")


def _day_lines(day: IntervalDay, count: int) -> list[str]:
    """The 300 line of one day, then its 400 and 500 lines."""
    if len(day.values) != count:
        raise ValueError(
            f"{day.stream.nmi} {day.date}: {len(day.values)} values, "
            f"the {day.stream.interval_length}-minute stream needs {count}"
        )
    # The file's own decimals when the day has them (read with keep_text): "1.500" stays.
    values = day.values_text.decode() + "," if day.values_text else None
    lines = [
        f"300,{_date8(day.date)},{values or _format_interval_values(day.values)}"
        f"{day.quality_method},{_code(day.reason_code)},{_text(day.reason_description)},"
        f"{_datetime14(day.update_datetime)},{_datetime14(day.msats_load_datetime)}"
    ]
    if day.quality_method == "V":
        _check_spans(day, count)
        lines.extend(map(_span_line, day.qualities))
    for b2b in day.b2b:
        lines.append(
            f"500,{_text(b2b.trans_code)},{_text(b2b.ret_service_order)},"
            f"{_datetime14(b2b.read_datetime)},{_text(b2b.index_read)}"
        )
    return lines


def _span_line(span: QualitySpan) -> str:
    return (
        f"400,{span.start},{span.end},{span.quality_method},"
        f"{_code(span.reason_code)},{_text(span.reason_description)}"
    )


def write_nem12(
    out: BinaryIO, records: Iterable[IntervalDay], header: Header | None = None
) -> None:
    """Write ``records`` as a NEM12 file: 100, then a 200 per run of days of one stream, 900.

    Consecutive days whose streams are equal share one 200 record, so pass the days grouped
    stream by stream (as the reader yields them). ``header`` defaults to one from ``NEM2CDR``
    to ``NEM2CDR`` created now. Raises ``ValueError`` for data no valid file can hold
    (wrong number of values, negative or non-finite values, V days whose spans do not
    cover the day, text fields with commas).
    """
    buffer = _Buffered(out)
    buffer.line(_header_line(header, "NEM12"))
    current: Stream | None = None
    count = 0
    for day in records:
        # ``is`` first: the reader and the generator share one Stream object per 200.
        if day.stream is not current and day.stream != current:
            current = day.stream
            count = current.intervals
            buffer.line(_stream_line(current))
        for line in _day_lines(day, count):
            buffer.line(line)
    buffer.line("900")
    buffer.flush()


def write(out: Target, days: Iterable[IntervalDay], header: Header | None = None) -> None:
    """Write ``days`` as a NEM12 file (see ``write_nem12``) to a path (whole or not at all),
    ``"-"`` for standard output, or an open binary stream."""
    with opened(out) as stream:
        write_nem12(stream, days, header)


def _basic_read_line(read: BasicRead) -> str:
    fields = (
        _text(read.nmi),
        _text(read.nmi_configuration),
        _text(read.register_id),
        _text(read.suffix),
        _text(read.stream_id),
        _text(read.meter_serial),
        _text(read.direction),
        _optional_value(read.previous_register_read),
        _datetime14(read.previous_read_datetime),
        _text(read.previous_quality_method),
        _code(read.previous_reason_code),
        _text(read.previous_reason_description),
        _optional_value(read.current_register_read),
        _datetime14(read.current_read_datetime),
        _text(read.current_quality_method),
        _code(read.current_reason_code),
        _text(read.current_reason_description),
        format_value(read.quantity),
        _text(read.uom),
        _date8(read.next_scheduled_read),
        _datetime14(read.update_datetime),
        _datetime14(read.msats_load_datetime),
    )
    return "250," + ",".join(fields)


def _basic_b2b_line(b2b: BasicB2B) -> str:
    fields = (
        b2b.previous_trans_code,
        b2b.previous_ret_service_order,
        b2b.current_trans_code,
        b2b.current_ret_service_order,
    )
    return "550," + ",".join(map(_text, fields))


def write_nem13(out: BinaryIO, records: Iterable[BasicRead], header: Header | None = None) -> None:
    """Write ``records`` as a NEM13 file: 100, a 250 (and its 550, if any) per read, 900."""
    buffer = _Buffered(out)
    buffer.line(_header_line(header, "NEM13"))
    for read in records:
        buffer.line(_basic_read_line(read))
        if read.b2b is not None:
            buffer.line(_basic_b2b_line(read.b2b))
    buffer.line("900")
    buffer.flush()
