"""``nem2cdr convert`` as a library call: a NEM12/NEM13 file to CDR usage responses.

One pass reads and converts every record into the spool (which puts them in the standard's
order in bounded memory); nothing is written when the file has errors, unless the caller asks
for the good records anyway. Then the output is written: the whole list as one response, one
page, every page, or JSON Lines. The same input and options always give the same bytes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from nem2cdr.cdr_model import ENCODER, MetaPaginated
from nem2cdr.diagnostics import Diagnostics
from nem2cdr.model import BasicRead, IntervalDay
from nem2cdr.pages import DEFAULT_PAGE_SIZE, check_page, links, page_count, write_response
from nem2cdr.reader import Reader, read
from nem2cdr.sources import Source
from nem2cdr.spool import Entry, Spool
from nem2cdr.usage import (
    ConversionError,
    ConvertOptions,
    basic_dates,
    basic_record,
    in_range,
    interval_record,
)

Output = str | os.PathLike[str] | BinaryIO


@dataclass
class ConvertResult:
    ok: bool  # False: the input had errors and nothing was written
    total_records: int
    total_pages: int
    written: list[str]  # the files written ("-" for standard output)
    diagnostics: Diagnostics  # the reader's and the conversion's findings


def convert(
    source: Source,
    out: Output = "-",
    options: ConvertOptions | None = None,
    *,
    page: int | None = None,
    page_size: int | None = None,
    all_pages: str | os.PathLike[str] | None = None,
    jsonl: bool = False,
    strict: bool = False,
    keep_going: bool = False,
) -> ConvertResult:
    """Convert ``source``; see ``nem2cdr convert --help`` for what each argument does.

    Errors and warnings are in the result's ``diagnostics``. With errors, nothing is
    written and ``ok`` is False, unless ``keep_going`` (then the good records are written).
    Raises ``PageError`` for a page that does not exist or a page size over 1000.
    """
    options = options or ConvertOptions()
    paged = page is not None or page_size is not None or all_pages is not None
    size = page_size or DEFAULT_PAGE_SIZE
    if paged:
        check_page(page or 1, size, total=(page or 1) * size)  # the size, before the work
    reader = read(source, strict=strict, keep_text=True)
    found = reader.diagnostics
    spool = Spool()
    try:
        _fill(spool, reader, options, found)
        total = spool.finish()
        if not found.ok and not keep_going:
            return ConvertResult(False, total, 0, [], found)
        query = _query(options)
        if not paged:
            pages = 1 if total else 0
            meta = MetaPaginated(total_records=total, total_pages=pages)
            page_links = links(options.base_url, query, None, None, pages)
            with _opened(out) as stream:
                if jsonl:
                    _write_lines(stream, spool.bodies())
                else:
                    write_response(stream, spool.bodies(), page_links, meta)
            return ConvertResult(True, total, pages, [_name(out)], found)
        pages = page_count(total, size)
        wanted = range(1, max(pages, 1) + 1) if all_pages is not None else [page or 1]
        for number in wanted:
            check_page(number, size, total)
        written = []
        for number in wanted:
            target: Output = out if all_pages is None else _page_path(all_pages, number, pages)
            bodies = spool.bodies(skip=(number - 1) * size, limit=size)
            with _opened(target) as stream:
                if jsonl:
                    _write_lines(stream, bodies)
                else:
                    meta = MetaPaginated(total_records=total, total_pages=pages)
                    page_links = links(options.base_url, query, number, size, pages)
                    write_response(stream, bodies, page_links, meta)
            written.append(_name(target))
        return ConvertResult(True, total, pages, written, found)
    finally:
        spool.close()


def _fill(spool: Spool, reader: Reader, options: ConvertOptions, found: Diagnostics) -> None:
    encode = ENCODER.encode
    sequence = 0
    for record in reader:
        sequence += 1
        try:
            if isinstance(record, IntervalDay):
                if not in_range(record.date, options):
                    continue
                if record.quality_method[:1] == "N" or any(
                    span.flag == "N" for span in record.qualities
                ):
                    found.add(
                        "NEM12-W020", reader.name, record.line,
                        "null data (quality N) sent as SUBSTITUTE",
                    )  # fmt: skip
                entry = Entry(
                    record.date.toordinal(), record.stream.suffix, 0,
                    _stamp(record.update_datetime), sequence,
                    encode(interval_record(record, options)),
                )  # fmt: skip
                spool.add(record.stream.nmi, entry)
            elif isinstance(record, BasicRead):
                dates = basic_dates(record)
                if dates is not None and not in_range(dates[1], options):
                    continue
                entry = Entry(
                    dates[0].toordinal() if dates else 0, record.suffix, sequence,
                    _stamp(record.update_datetime), sequence,
                    encode(basic_record(record, options)),
                )  # fmt: skip
                spool.add(record.nmi, entry)
        except ConversionError as exc:
            found.add("NEM12-E040", reader.name, record.line, str(exc))


def _stamp(moment: datetime | None) -> int:
    if moment is None:
        return 0
    return moment.toordinal() * 86400 + moment.hour * 3600 + moment.minute * 60 + moment.second


def _query(options: ConvertOptions) -> dict[str, str]:
    query: dict[str, str] = {}
    if options.interval_reads != "NONE":
        query["interval-reads"] = options.interval_reads
    if options.oldest_date is not None:
        query["oldest-date"] = options.oldest_date.isoformat()
    if options.newest_date is not None:
        query["newest-date"] = options.newest_date.isoformat()
    return query


def _write_lines(stream: BinaryIO, bodies: Iterator[bytes]) -> None:
    for body in bodies:
        stream.write(body + b"\n")


def _page_path(folder: str | os.PathLike[str], number: int, pages: int) -> Path:
    width = max(4, len(str(pages)))
    return Path(folder) / f"page-{number:0{width}d}.json"


def _name(out: Output) -> str:
    if isinstance(out, (str, os.PathLike)):
        return os.fspath(out)
    return str(getattr(out, "name", "<stream>"))


@contextmanager
def _opened(out: Output) -> Iterator[BinaryIO]:
    """A binary stream to write; a path is written beside itself and renamed when complete."""
    if not isinstance(out, (str, os.PathLike)):
        yield out
        return
    if os.fspath(out) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(partial, "wb", buffering=1 << 20) as stream:
            yield stream
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
