"""The export and the conversion on Spark: ``read_nem12`` and ``to_cdr``.

``read_nem12(spark, paths)`` reads NEM12/NEM13 files in parallel across the executors
(``binaryFile``, then ``mapInArrow`` running this reader on each file whole) into a DataFrame
with the columns and types of ``nem2cdr export``. Two jobs: the first reads every file for its
errors and the width of its decimals (a DataFrame's schema is fixed before its first row), the
second builds the rows. A day given twice in one file is decided where the file is read; a day
given by two files is decided by a window over (NMI, suffix, day) with ``convert``'s rule: the
later UpdateDateTime, then the later file (by path). That window is the one shuffle; files
known to hold disjoint days can skip it (``resolve_duplicates=False``).

``to_cdr(df, ...)`` groups the long or daily rows by NMI and runs ``convert`` itself on each
NMI's days, every page: one row per response page (``servicePointId``, ``page``,
``payload``), the bytes ``nem2cdr convert --page-size N --page K`` writes for a file of that
NMI. Values read with ``values="text"`` are the file's text, so the payloads are byte for
byte; decimal values (the default) give the same numbers, written at the column's scale.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nem2cdr.diagnostics import Diagnostics
from nem2cdr.frames import ExportError
from nem2cdr.model import IntervalDay, QualitySpan, Stream
from nem2cdr.survey import Digits, second_read, survey
from nem2cdr.tables import BATCH_ROWS, Options, Shape, batches, check_width, need, schema
from nem2cdr.usage import ConvertOptions, service_point_id

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_NEM = timezone(timedelta(hours=10))
# Columns that only the duplicate window needs: dropped before the frame is returned.
_FILE, _DAY, _UPDATE = "_nem2cdr_file", "_nem2cdr_day", "_nem2cdr_update"
_LATEST = "_nem2cdr_latest"
_SURVEY = "path string, whole int, places int, errors int, findings array<string>"
_PAGES = "servicePointId string, page int, payload string"


class _Named(io.BytesIO):
    """A file's bytes under its path, so that findings and ``source_file`` name the file."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def _spark_types(arrow_schema: Any) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow_schema)


def read_nem12(
    spark: SparkSession,
    paths: str | Sequence[str],
    shape: Shape = "long",
    *,
    values: Literal["decimal", "text"] = "decimal",
    keep_superseded: bool = False,
    keep_going: bool = False,
    strict: bool = False,
    resolve_duplicates: bool = True,
) -> DataFrame:
    """A DataFrame of table ``shape`` (``long``, ``daily``, ``accumulation``) of the files.

    ``paths`` is what ``spark.read.load`` takes: files, folders, globs. Raises
    ``ExportError`` (on the driver, before the rows are built) when a file has errors,
    unless ``keep_going``; ``values="text"`` gives each value as the file's text (a string
    column), as the CSV export does.
    """
    need("pyspark", "spark")
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    where = paths if isinstance(paths, str) else list(paths)
    files = spark.read.format("binaryFile").load(where).select("path", "content")
    found = files.mapInArrow(_surveying(strict), _SURVEY).collect()
    digits = Digits(
        max((row.whole for row in found), default=1), max((row.places for row in found), default=0)
    )
    if any(row.errors for row in found) and not keep_going:
        raise ExportError(_findings(found, strict))
    check_width(digits)
    options = Options(digits, keep_superseded, text_values=values == "text")
    table = schema(shape, options)
    pa = need("pyarrow", "arrow")
    helpers = [(_FILE, pa.string()), (_DAY, pa.date32()), (_UPDATE, pa.int64())]
    wide = pa.schema([*table, *helpers])
    frame = files.mapInArrow(_reading(shape, options, strict, wide), _spark_types(wide))
    if resolve_duplicates and shape != "accumulation":
        copy = F.struct(F.col(_UPDATE), F.col(_FILE))
        latest = F.max(copy).over(Window.partitionBy("nmi", "suffix", _DAY))
        frame = frame.withColumn(_LATEST, copy == latest)
        if keep_superseded:
            frame = frame.withColumn("superseded", F.col("superseded") | ~F.col(_LATEST))
        else:
            frame = frame.where(F.col(_LATEST))
    return frame.drop(_FILE, _DAY, _UPDATE, _LATEST)


def _findings(rows: Iterable[Any], strict: bool) -> Diagnostics:
    """The executors' findings back as ``Diagnostics`` (their text, as ``validate`` says them)."""
    found = Diagnostics(strict=strict)
    for row in rows:
        for finding in row.findings:
            code, _, message = finding.partition(" ")
            found.add(code, row.path, None, message)
    return found


def _surveying(strict: bool) -> Any:
    def run(parts: Iterator[Any]) -> Iterator[Any]:
        pa = need("pyarrow", "arrow")
        for part in parts:
            rows: list[dict[str, object]] = []
            for path, content in zip(
                part.column("path").to_pylist(), part.column("content").to_pylist(), strict=True
            ):
                result = survey([_Named(content, path)], strict=strict)
                errors = result.diagnostics.errors
                rows.append(
                    {
                        "path": path,
                        "whole": result.digits.whole,
                        "places": result.digits.places,
                        "errors": result.diagnostics.error_count,
                        "findings": [f"{e.code} {e.file}:{e.line}: {e.message}" for e in errors],
                    }
                )
            yield pa.RecordBatch.from_pylist(rows, schema=_survey_schema(pa))

    return run


def _survey_schema(pa: Any) -> Any:
    return pa.schema(
        [
            ("path", pa.string()),
            ("whole", pa.int32()),
            ("places", pa.int32()),
            ("errors", pa.int32()),
            ("findings", pa.list_(pa.string())),
        ]
    )


def _reading(shape: Shape, options: Options, strict: bool, wide: Any) -> Any:
    def run(parts: Iterator[Any]) -> Iterator[Any]:
        pa, pc = need("pyarrow", "arrow"), need("pyarrow.compute", "arrow")
        for part in parts:
            for path, content in zip(
                part.column("path").to_pylist(), part.column("content").to_pylist(), strict=True
            ):
                source = _Named(content, path)
                found = survey([source], strict=strict)
                items = second_read(
                    [source], found, strict=strict, keep_superseded=options.keep_superseded
                )
                for batch in batches(shape, options, items, BATCH_ROWS):
                    yield _with_helpers(batch, path, shape, wide, pa, pc)

    return run


def _with_helpers(batch: Any, path: str, shape: Shape, wide: Any, pa: Any, pc: Any) -> Any:
    """``batch`` with the columns the duplicate window decides by."""
    rows = batch.num_rows
    if shape == "long":
        day = pc.cast(pc.local_timestamp(batch.column("interval_start")), pa.date32())
    elif shape == "daily":
        day = batch.column("date")
    else:
        day = pa.nulls(rows, pa.date32())
    update = batch.column("update_datetime").cast(pa.int64()).fill_null(0)
    columns = [*batch.columns, pa.array([path] * rows, pa.string()), day, update]
    return pa.RecordBatch.from_arrays(columns, schema=wide)


def to_cdr(
    df: DataFrame,
    *,
    interval_reads: Literal["NONE", "MIN_30", "FULL"] = "NONE",
    page_size: int = 25,
    **options: Any,
) -> DataFrame:
    """One row per response page of each NMI: ``servicePointId``, ``page``, ``payload``.

    ``df`` is ``read_nem12``'s long or daily shape; ``options`` are ``ConvertOptions``'
    other fields (``service_point_id``, ``export_sign``, ``base_url``, ...). Each payload is
    what ``convert(..., page=K, page_size=N)`` writes for the NMI's days alone.
    """
    need("pyspark", "spark")
    chosen = ConvertOptions(interval_reads=interval_reads, **options)
    if "superseded" in df.columns:
        df = df.where(~df["superseded"])
    return df.groupBy("nmi").applyInArrow(_paging(chosen, page_size), _PAGES)


def _paging(options: ConvertOptions, page_size: int) -> Any:
    def run(table: Any) -> Any:
        pa = need("pyarrow", "arrow")
        from nem2cdr.conversion import convert
        from nem2cdr.writer import write_nem12

        days = list(_interval_days(table))
        nmi = days[0].stream.nmi
        text = io.BytesIO()
        write_nem12(text, days)
        with tempfile.TemporaryDirectory() as folder:
            text.seek(0)
            result = convert(text, "-", options, all_pages=folder, page_size=page_size)
            payloads = [Path(page).read_text("utf-8") for page in result.written]
        identifier = service_point_id(nmi, options)
        return pa.table(
            {
                "servicePointId": [identifier] * len(payloads),
                "page": pa.array(range(1, len(payloads) + 1), pa.int32()),
                "payload": payloads,
            }
        )

    return run


def _interval_days(table: Any) -> Iterator[IntervalDay]:
    """One NMI's rows back as the model's days, in the order the files gave them."""
    rows = sorted(table.to_pylist(), key=lambda r: (r["source_file"], r["source_line"]))
    if rows and "values" in rows[0]:
        yield from (_daily_day(row) for row in rows)
        return
    start = 0
    while start < len(rows):
        first = rows[start]
        end = start
        while end < len(rows) and _same_day(rows[end], first):
            end += 1
        yield _long_day(rows[start:end])
        start = end


def _same_day(row: dict[str, Any], first: dict[str, Any]) -> bool:
    return bool(
        row["source_file"] == first["source_file"] and row["source_line"] == first["source_line"]
    )


def _stream(row: dict[str, Any]) -> Stream:
    uom = row["uom"]
    return Stream(
        row["nmi"],
        "",
        row["register_id"] or "",
        row["suffix"],
        "",
        row["meter_serial"] or "",
        uom,
        uom,
        row["interval_length"],
        None,
        0,
    )


def _text(value: Decimal | str) -> str:
    return value if isinstance(value, str) else format(value, "f")


def _day(stream: Stream, when: date, texts: list[str], spans: list[QualitySpan]) -> IntervalDay:
    whole = spans[0] if len(spans) == 1 else None
    return IntervalDay(
        stream,
        when,
        [float(text) for text in texts],
        whole.quality_method if whole else "V",
        whole.reason_code if whole else None,
        whole.reason_description if whole else "",
        tuple(spans),
        None,
        None,
        (),
        0,
        ",".join(texts).encode(),
    )


def _long_day(rows: list[dict[str, Any]]) -> IntervalDay:
    spans: list[QualitySpan] = []
    for number, row in enumerate(rows, 1):
        kind = (row["quality"], row["reason_code"], row["reason_description"] or "")
        last = spans[-1] if spans else None
        if last and (last.quality_method, last.reason_code, last.reason_description) == kind:
            spans[-1] = QualitySpan(last.start, number, *kind, 0)
        else:
            spans.append(QualitySpan(number, number, *kind, 0))
    when = rows[0]["interval_start"].astimezone(_NEM).date()
    return _day(_stream(rows[0]), when, [_text(row["value"]) for row in rows], spans)


def _daily_day(row: dict[str, Any]) -> IntervalDay:
    values = row["values"]
    texts = values[1:-1].split(",") if isinstance(values, str) else [_text(v) for v in values]
    spans = [
        QualitySpan(
            span["first_interval"],
            span["last_interval"],
            span["quality"],
            span["reason_code"],
            span["reason_description"] or "",
            0,
        )
        for span in row["qualities"]
    ]
    return _day(_stream(row), row["date"], texts, spans)


def write_pages(df: DataFrame, folder: str | os.PathLike[str]) -> None:
    """``to_cdr``'s pages as files: ``FOLDER/servicePointId=ID/page-NNNN.json`` (Spark writes
    each partition's files in parallel; one JSON response per file)."""
    need("pyspark", "spark")
    from pyspark.sql import functions as F

    named = df.withColumn("name", F.format_string("page-%04d.json", F.col("page")))
    named.foreachPartition(_page_files(os.fspath(folder)))


def _page_files(folder: str) -> Any:
    def run(rows: Iterable[Any]) -> None:
        from nem2cdr.atomic import write_atomically

        for row in rows:
            path = Path(folder) / f"servicePointId={row.servicePointId}" / row.name
            write_atomically(path, row.payload.encode("utf-8"))

    return run
