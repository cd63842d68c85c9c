"""Interval data as Arrow tables: the schemas an export writes and the record batches it writes.

Three tables: ``long`` (one row per interval), ``daily`` (one row per NMI, suffix and day, the
values as a list) and ``accumulation`` (one row per NEM13 read). Rows are built a batch at a
time, with Arrow's C++ kernels doing the per-interval work: the reader gives a day's values as
the file's text, which Arrow splits and parses as decimals, so a value is the file's number
exactly, never a float's approximation of it.

Every value of a table has one decimal type, wide enough for every decimal of the inputs: its
scale is the most decimal places any value of the inputs has (the first read, ``survey``,
measures it). A file that writes ``0`` and ``1.25`` in one day gives them as 0.00 and 1.25.
Times are in the NEM's time zone, a fixed UTC+10:00 all year round.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any, Literal, cast

import msgspec

from nem2cdr.exact import exact_sum
from nem2cdr.model import BasicRead, IntervalDay, QualitySpan
from nem2cdr.survey import Digits, Located, basic_numbers, value_text
from nem2cdr.writer import format_value

Shape = Literal["long", "daily", "accumulation"]
SHAPES: tuple[Shape, ...] = ("long", "daily", "accumulation")
NEM_TIME = "+10:00"  # the NEM's standard time, no daylight saving
# Intervals per record batch: the bound on an export's memory (a Parquet row group gathers a
# few, see exporting.ROW_GROUP_BATCHES). Measured on an 80-NMI 5-minute file with two
# processes: 2^17 peaked at 258 MB, 2^16 at 213 MB; CI under load saw 2^17 reach 331 MiB.
BATCH_ROWS = 1 << 16
_MAX_PRECISION = 38  # decimal128; also the widest decimal Spark has
_SUM_DIGITS = 4  # a day's total of at most 1,440 values has at most four more whole digits
_US = 1_000_000
_EPOCH = date(1970, 1, 1).toordinal()
_NEM_OFFSET_US = 10 * 3600 * _US
_ENCODE_JSON = msgspec.json.Encoder().encode


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says which extra brings it."""


def need(module: str, extra: str) -> ModuleType:
    """Import ``module`` of the optional extra ``extra``, or say in one line how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"this needs {module.split('.')[0]}, which is not installed: "
            f"pip install 'nem2cdr[{extra}]'"
        ) from exc


def _pa() -> Any:
    return need("pyarrow", "arrow")


def _pc() -> Any:
    return need("pyarrow.compute", "arrow")


@dataclass(frozen=True)
class Options:
    """What shapes the tables beyond the data: the decimal type, and whether superseded days
    are kept (then flagged in a ``superseded`` column)."""

    digits: Digits
    keep_superseded: bool = False
    text_values: bool = False  # values as the file's text (for CSV), not decimals

    @property
    def scale(self) -> int:
        return self.digits.places

    @property
    def precision(self) -> int:
        return self.digits.whole + self.digits.places


class DecimalTooWide(ValueError):
    """The inputs' decimals need more than 38 digits in one type (huge and tiny values mixed)."""


def check_width(digits: Digits) -> None:
    if digits.whole + digits.places + _SUM_DIGITS > _MAX_PRECISION:
        raise DecimalTooWide(
            f"the values need {digits.whole} digits before the point and {digits.places} after "
            f"it: more than one {_MAX_PRECISION}-digit decimal type holds"
        )


def schema(shape: Shape, options: Options) -> Any:
    """The Arrow schema of table ``shape``."""
    pa = _pa()
    value = pa.string() if options.text_values else pa.decimal128(options.precision, options.scale)
    moment = pa.timestamp("us", tz=NEM_TIME)
    text, small = pa.string(), pa.int32()
    stream = [
        ("nmi", text),
        ("suffix", text),
        ("register_id", text),
        ("meter_serial", text),
        ("uom", text),
    ]
    source = [("source_file", text), ("source_line", pa.int64())]
    updates = [("update_datetime", moment), ("msats_load_datetime", moment)]
    if shape == "long":
        fields = [
            *stream,
            ("interval_start", moment),
            ("interval_end", moment),
            ("interval_length", small),
            ("value", value),
            ("quality", text),
            ("reason_code", small),
            ("reason_description", text),
            *updates,
            *source,
        ]
    elif shape == "daily":
        total = pa.decimal128(options.precision + _SUM_DIGITS, options.scale)
        span = pa.struct(
            [
                ("first_interval", small),
                ("last_interval", small),
                ("quality", text),
                ("reason_code", small),
                ("reason_description", text),
            ]
        )
        fields = [
            *stream,
            ("date", pa.date32()),
            ("interval_length", small),
            ("values", value if options.text_values else pa.list_(value)),
            ("total", total),
            ("quality_method", text),
            ("qualities", pa.list_(span)),
            *updates,
            *source,
        ]
    else:
        fields = [
            *stream,
            ("direction", text),
            ("previous_read", value),
            ("previous_read_datetime", moment),
            ("previous_quality", text),
            ("previous_reason_code", small),
            ("previous_reason_description", text),
            ("current_read", value),
            ("current_read_datetime", moment),
            ("current_quality", text),
            ("current_reason_code", small),
            ("current_reason_description", text),
            ("quantity", value),
            ("next_scheduled_read", pa.date32()),
            *updates,
            *source,
        ]
    if options.keep_superseded and shape != "accumulation":
        fields.append(("superseded", pa.bool_()))
    return pa.schema(fields)


class Groups:
    """Gathers records into groups of about ``rows`` intervals: a record batch each."""

    def __init__(self, rows: int = BATCH_ROWS) -> None:
        self.rows = rows
        self._held: list[Located] = []
        self._size = 0

    def add(self, item: Located) -> list[Located] | None:
        """Hold ``item``; the held group when it is big enough for a batch, else None."""
        self._held.append(item)
        record = item.record
        self._size += len(record.values) if isinstance(record, IntervalDay) else 1
        return self.rest() if self._size >= self.rows else None

    def rest(self) -> list[Located] | None:
        """What is held, as a group (None when nothing is)."""
        if not self._held:
            return None
        held, self._held, self._size = self._held, [], 0
        return held


def build(shape: Shape, table_schema: Any, held: list[Located]) -> Any:
    """The record batch of table ``shape`` (``table_schema``) of a group."""
    if shape == "long":
        return _long_batch(held, table_schema)
    if shape == "daily":
        return _daily_batch(held, table_schema)
    return _accumulation_batch(held, table_schema)


def batches(
    shape: Shape, options: Options, items: Iterable[Located], rows: int = BATCH_ROWS
) -> Iterator[Any]:
    """Record batches of table ``shape`` from ``items`` (records of the other kind are passed
    over: NEM13 reads for the interval tables, interval days for ``accumulation``)."""
    groups, table_schema = Groups(rows), schema(shape, options)
    wanted = BasicRead if shape == "accumulation" else IntervalDay
    for item in items:
        if isinstance(item.record, wanted):
            held = groups.add(item)
            if held is not None:
                yield build(shape, table_schema, held)
    last = groups.rest()
    if last is not None:
        yield build(shape, table_schema, last)


# -- columns ---------------------------------------------------------------------------------


def _instant(moment: date | datetime | None) -> int | None:
    """A NEM wall-clock time as microseconds since the epoch (UTC)."""
    if moment is None:
        return None
    micros = (moment.toordinal() - _EPOCH) * 86_400 * _US - _NEM_OFFSET_US
    if isinstance(moment, datetime):
        micros += (moment.hour * 3600 + moment.minute * 60 + moment.second) * _US
        micros += moment.microsecond
    return micros


def _moments(values: list[int | None]) -> Any:
    pa = _pa()
    return pa.array(values, pa.int64()).cast(pa.timestamp("us", tz=NEM_TIME))


def _or_none(text: str) -> str | None:
    return text or None


def _repeat(values: Any, run_ends: Any) -> Any:
    """Each of ``values`` repeated up to its run end (cumulative counts)."""
    pa = _pa()
    return _pc().run_end_decode(pa.RunEndEncodedArray.from_arrays(run_ends, values))


def _values(texts: list[bytes], type_: Any) -> tuple[Any, Any]:
    """The values of each day's text as one flat array of ``type_`` (decimals, or the text
    itself), and where each day's values start in it."""
    pa, pc = _pa(), _pc()
    lists = pc.split_pattern(pa.array(texts, pa.binary()).cast(pa.string()), ",")
    return lists.flatten().cast(type_), lists.offsets


def _days(held: list[Located]) -> list[IntervalDay]:
    return cast(list[IntervalDay], [item.record for item in held])


def _day_columns(held: list[Located]) -> dict[str, list[Any]]:
    """The columns that hold one value per day, as Python lists."""
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "nmi",
            "suffix",
            "register_id",
            "meter_serial",
            "uom",
            "interval_length",
            "update_datetime",
            "msats_load_datetime",
            "source_file",
            "source_line",
            "superseded",
        )
    }
    for item in held:
        day = cast(IntervalDay, item.record)
        stream = day.stream
        columns["nmi"].append(stream.nmi)
        columns["suffix"].append(stream.suffix)
        columns["register_id"].append(_or_none(stream.register_id))
        columns["meter_serial"].append(_or_none(stream.meter_serial))
        columns["uom"].append(stream.uom)
        columns["interval_length"].append(stream.interval_length)
        columns["update_datetime"].append(_instant(day.update_datetime))
        columns["msats_load_datetime"].append(_instant(day.msats_load_datetime))
        columns["source_file"].append(item.file)
        columns["source_line"].append(day.line)
        columns["superseded"].append(item.superseded)
    return columns


def _typed(columns: dict[str, Any], schema: Any) -> Any:
    """A record batch of ``schema`` from columns (arrays, or Python lists to convert)."""
    pa = _pa()
    arrays = []
    for field in schema:
        column = columns[field.name]
        if isinstance(column, list):
            column = pa.array(column, field.type)
        elif column.type != field.type:
            column = column.cast(field.type)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _long_batch(held: list[Located], schema: Any) -> Any:
    pa, pc = _pa(), _pc()
    days = _days(held)
    values, offsets = _values([value_text(day) for day in days], schema.field("value").type)
    rows = len(values)
    day_ends = offsets[1:]
    per_day = _day_columns(held)
    starts = [_instant(day.date) for day in days]
    length_us = [length * 60 * _US for length in per_day["interval_length"]]
    columns: dict[str, Any] = {}
    for name, column in per_day.items():
        if name in schema.names:
            columns[name] = _repeat(pa.array(column, schema.field(name).type), day_ends)
    # An interval's position in its day: the row's number less its day's first row.
    first_rows = _repeat(offsets[:-1].cast(pa.int64()), day_ends)
    position = pc.subtract(_row_numbers(rows), first_rows)
    step = _repeat(pa.array(length_us, pa.int64()), day_ends)
    start = pc.add(_repeat(pa.array(starts, pa.int64()), day_ends), pc.multiply(position, step))
    columns["interval_start"] = start
    columns["interval_end"] = pc.add(start, step)
    columns["value"] = values
    spans = [span for day in days for span in day.qualities]
    span_ends = pa.array(_cumulative(span.end - span.start + 1 for span in spans), pa.int32())
    columns["quality"] = _repeat(pa.array([s.quality_method for s in spans]), span_ends)
    codes = pa.array([s.reason_code for s in spans], pa.int32())
    columns["reason_code"] = _repeat(codes, span_ends)
    descriptions = pa.array([_or_none(s.reason_description) for s in spans], pa.string())
    columns["reason_description"] = _repeat(descriptions, span_ends)
    return _typed(columns, schema)


def _row_numbers(rows: int) -> Any:
    """0, 1, ... rows - 1 as int64, counted by Arrow: converting a Python ``range`` of a
    batch's 65,536 rows took 15 ms, about 1.9 s of a 95 MB file's export."""
    pa, pc = _pa(), _pc()
    return pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), rows), start=-1)


def _cumulative(counts: Iterable[int]) -> list[int]:
    total, ends = 0, []
    for count in counts:
        total += count
        ends.append(total)
    return ends


def _daily_batch(held: list[Located], schema: Any) -> Any:
    pa = _pa()
    days = _days(held)
    columns: dict[str, Any] = dict(_day_columns(held))
    columns["date"] = [day.date for day in days]
    values_type = schema.field("values").type
    if pa.types.is_list(values_type):
        values, offsets = _values([value_text(day) for day in days], values_type.value_type)
        columns["values"] = pa.ListArray.from_arrays(offsets, values)
    else:  # a CSV's cell: the file's decimals as a JSON array
        columns["values"] = [f"[{value_text(day).decode()}]" for day in days]
    columns["total"] = [_total(day) for day in days]
    columns["quality_method"] = [day.quality_method for day in days]
    columns["qualities"] = [[_span(span) for span in day.qualities] for day in days]
    return _typed(columns, schema)


def _total(day: IntervalDay) -> Decimal:
    total = exact_sum(day.values, None)
    return Decimal(repr(total)) if isinstance(total, float) else Decimal(bytes(total).decode())


def _span(span: QualitySpan) -> dict[str, object]:
    return {
        "first_interval": span.start,
        "last_interval": span.end,
        "quality": span.quality_method,
        "reason_code": span.reason_code,
        "reason_description": _or_none(span.reason_description),
    }


def _accumulation_batch(held: list[Located], schema: Any) -> Any:
    reads = cast(list[BasicRead], [item.record for item in held])
    columns: dict[str, Any] = {
        "nmi": [r.nmi for r in reads],
        "suffix": [r.suffix for r in reads],
        "register_id": [_or_none(r.register_id) for r in reads],
        "meter_serial": [_or_none(r.meter_serial) for r in reads],
        "uom": [r.uom for r in reads],
        "direction": [_or_none(r.direction) for r in reads],
        "previous_read_datetime": [_instant(r.previous_read_datetime) for r in reads],
        "previous_quality": [_or_none(r.previous_quality_method) for r in reads],
        "previous_reason_code": [r.previous_reason_code for r in reads],
        "previous_reason_description": [_or_none(r.previous_reason_description) for r in reads],
        "current_read_datetime": [_instant(r.current_read_datetime) for r in reads],
        "current_quality": [_or_none(r.current_quality_method) for r in reads],
        "current_reason_code": [r.current_reason_code for r in reads],
        "current_reason_description": [_or_none(r.current_reason_description) for r in reads],
        "next_scheduled_read": [r.next_scheduled_read for r in reads],
        "update_datetime": [_instant(r.update_datetime) for r in reads],
        "msats_load_datetime": [_instant(r.msats_load_datetime) for r in reads],
        "source_file": [item.file for item in held],
        "source_line": [r.line for r in reads],
    }
    for name in ("previous_read_datetime", "current_read_datetime"):
        columns[name] = _moments(columns[name])
    for name in ("update_datetime", "msats_load_datetime"):
        columns[name] = _moments(columns[name])
    numbers = zip(*(basic_numbers(r) for r in reads), strict=True)
    as_text = not _pa().types.is_decimal(schema.field("quantity").type)
    for name, column in zip(("previous_read", "current_read", "quantity"), numbers, strict=True):
        columns[name] = [_number(n, as_text) for n in column]
    return _typed(columns, schema)


def _number(value: float | None, as_text: bool) -> str | Decimal | None:
    if value is None:
        return None
    return format_value(value) if as_text else Decimal(repr(value))


def as_text(batch: Any) -> Any:
    """``batch`` as a CSV holds it: times as ISO 8601 text with the NEM's offset, lists and
    structs as JSON; decimals and the rest as Arrow writes them."""
    pa = _pa()
    columns = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            column = _iso(column)
        elif pa.types.is_list(field.type):
            column = pa.array(
                [None if cell is None else _ENCODE_JSON(cell).decode() for cell in _json(column)],
                pa.string(),
            )
        columns.append(column)
    names = batch.schema.names
    return pa.RecordBatch.from_arrays(columns, names=names)


def _iso(column: Any) -> Any:
    """Timestamps as ISO 8601 text at the NEM's offset ("2024-01-01T00:00:00+10:00").

    Arrow's cast of a wall-clock time to text is ten times faster than its strftime."""
    pa, pc = _pa(), _pc()
    wall = pc.add(column.cast(pa.int64()), _NEM_OFFSET_US).cast(pa.timestamp("us"))
    text = wall.cast(pa.timestamp("s")).cast(pa.string())  # "2024-01-01 00:00:00"
    iso = pc.replace_substring(text, " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(iso, NEM_TIME, "")


def _json(column: Any) -> list[Any]:
    """A list column's cells as JSON-ready Python values (decimals as their text)."""
    return [_plain(cell) for cell in column.to_pylist()]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return msgspec.Raw(str(value).encode())
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
