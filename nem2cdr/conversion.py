"""``nem2cdr convert`` as a library call: a NEM12/NEM13 file to CDR usage responses.

One pass reads and converts every record into the spool (which puts them in the standard's
order in bounded memory); nothing is written when the file has errors, unless the caller asks
for the good records anyway. Then the output is written: the whole list as one response, one
page, every page, or JSON Lines. The same input and options always give the same bytes.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from nem2cdr.atomic import staged_folder
from nem2cdr.cdr_model import ENCODER, MetaPaginated
from nem2cdr.diagnostics import Diagnostics
from nem2cdr.fields import stamp
from nem2cdr.model import BasicRead, IntervalDay, QualitySpan
from nem2cdr.pages import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    check_page,
    check_page_size,
    links,
    page_count,
    write_page,
    write_response,
)
from nem2cdr.parallel import Forked, Workers, halves
from nem2cdr.reader import Part, Reader
from nem2cdr.sources import Source, source_name
from nem2cdr.spool import Entry, Key, OnReplace, Runs, Spool
from nem2cdr.targets import Target, opened, same_file, target_name
from nem2cdr.usage import (
    ConversionError,
    ConvertOptions,
    OptionsError,
    basic_dates,
    basic_record,
    in_range,
    interval_record,
)

# Sequence numbers of the second half's records: after every record of the first half.
_SECOND_HALF = 1 << 40
_PAGE_NAME = re.compile(r"page-[0-9]{4,}\.json")
OnProgress = Callable[[float], None]
# One response may hold at most a page of 1,000 reads (the standard's largest page size).
_TOO_MANY = (
    "{total:,} records do not fit one standard response (at most {most:,} reads): "
    "ask for one page (--page N, --page-size), every page (--all-pages DIR) or one read a "
    "line (--jsonl); --whole-file writes a non-standard dump of them all"
)


@dataclass
class ConvertResult:
    ok: bool  # False: the input had errors and nothing was written
    total_records: int
    total_pages: int
    written: list[str]  # the files written ("-" for standard output)
    diagnostics: Diagnostics  # the reader's and the conversion's findings


def convert(
    source: Source,
    out: Target = "-",
    options: ConvertOptions | None = None,
    *,
    page: int | None = None,
    page_size: int | None = None,
    all_pages: str | os.PathLike[str] | None = None,
    jsonl: bool = False,
    whole_file: bool = False,
    strict: bool = False,
    keep_going: bool = False,
    on_progress: OnProgress | None = None,
    workers: Workers = 1,
) -> ConvertResult:
    """Convert ``source``; see ``nem2cdr convert --help`` for what each argument does.

    ``on_progress(fraction)`` is called now and then with how much of the input is read
    (0 to 1), when that is known (a file, not a pipe). ``workers`` above 1 (or "auto", one
    per core) lets a large plain file be read in two processes; the bytes are the same.

    Errors and warnings are in the result's ``diagnostics``. With errors, nothing is
    written and ``ok`` is False, unless ``keep_going`` (then the good records are written).
    Without ``page``, ``page_size`` or ``all_pages`` one response holds every record, which
    the standard allows only up to 1,000 reads: past that it raises ``OptionsError`` naming
    the choices, unless ``jsonl`` (no response) or ``whole_file`` (a non-standard dump, which
    ``check`` rejects).

    Raises ``PageError`` for a page that does not exist or a page size over 1000, and
    ``OptionsError`` for ``page`` or ``jsonl`` with ``all_pages``, for ``whole_file`` with a
    paging option, for a whole response past 1,000 reads (above) and for an output that is
    the input.
    """
    if page is not None and all_pages is not None:
        raise OptionsError("all pages and one page cannot both be asked for")
    if jsonl and all_pages is not None:
        raise OptionsError("JSON Lines is one stream of reads: it has no pages to write apart")
    if same_file(source, out):
        raise OptionsError(f"the output {target_name(out)} is the input file")
    options = options or ConvertOptions()
    paged = page is not None or page_size is not None or all_pages is not None
    if whole_file and paged:
        raise OptionsError("a whole-file dump has no pages: it takes no page options")
    size = page_size or DEFAULT_PAGE_SIZE
    if paged:
        check_page_size(size)  # before the work; the page itself once the total is known
    spool, found = _spooled(source, options, strict, on_progress, workers)
    try:
        total = spool.finish(_reporter(found, source_name(source)))
        if not found.ok and not keep_going:
            return ConvertResult(False, total, 0, [], found)
        query = link_query(options)
        if not paged:
            if total > MAX_PAGE_SIZE and not (jsonl or whole_file):
                raise OptionsError(_TOO_MANY.format(total=total, most=MAX_PAGE_SIZE))
            pages = 1 if total else 0
            meta = MetaPaginated(total_records=total, total_pages=pages)
            page_links = links(options.base_url, query, None, None, pages)
            with opened(out) as stream:
                if jsonl:
                    _write_lines(stream, spool.bodies())
                else:
                    write_response(stream, spool.bodies(), page_links, meta)
            return ConvertResult(True, total, pages, [target_name(out)], found)
        pages = page_count(total, size)
        page_of = _PageWriter(spool, options, query, size, total, pages)
        if all_pages is None:
            check_page(page or 1, size, total)
            with opened(out) as stream:
                page_of.write(stream, page or 1, jsonl)
            return ConvertResult(True, total, pages, [target_name(out)], found)
        numbers = range(1, max(pages, 1) + 1)
        for number in numbers:
            check_page(number, size, total)
        written = _write_all_pages(Path(all_pages), numbers, page_of)
        return ConvertResult(True, total, pages, [os.fspath(path) for path in written], found)
    finally:
        spool.close()


def _spooled(
    source: Source,
    options: ConvertOptions,
    strict: bool,
    on_progress: OnProgress | None,
    workers: Workers,
) -> tuple[Spool, Diagnostics]:
    """Every record converted and spooled, on two cores when allowed and the file allows."""
    parts = halves(source, workers)
    if parts is not None:
        done = _spooled_in_halves(source, parts, options, strict, on_progress)
        if done is not None:
            return done
    reader = Reader(source, strict=strict, keep_text=True)
    spool = Spool()
    _fill(spool, reader, options, reader.diagnostics, on_progress=on_progress)
    return spool, reader.diagnostics


def _spooled_in_halves(
    source: Source,
    parts: tuple[Part, Part],
    options: ConvertOptions,
    strict: bool,
    on_progress: OnProgress | None,
) -> tuple[Spool, Diagnostics] | None:
    first, second = parts
    shared = tempfile.TemporaryFile()  # the child's spool file, read by the parent after

    def second_half() -> tuple[Runs, Diagnostics]:
        reader = Reader(source, strict=strict, keep_text=True, part=second)
        spool = Spool(shared)
        _fill(spool, reader, options, reader.diagnostics, _SECOND_HALF)
        return spool.export(), reader.diagnostics

    try:
        child = Forked(second_half)
    except OSError:
        shared.close()
        return None
    spool = Spool()
    try:
        reader = Reader(source, strict=strict, keep_text=True, part=first)
        # The parent's half stands for both: the child reads at the same pace.
        _fill(spool, reader, options, reader.diagnostics, on_progress=on_progress)
    except BaseException:
        child.kill()
        spool.close()
        shared.close()
        raise
    result = child.join()
    if result is None:  # the child failed: the caller does it all in one process
        spool.close()
        shared.close()
        return None
    runs, theirs = result
    spool.adopt(shared, runs)
    reader.diagnostics.absorb(theirs)
    return spool, reader.diagnostics


def _reporter(found: Diagnostics, name: str) -> OnReplace:
    """W011 for a day whose copies the two halves of a file each held (see spool.adopt)."""

    def report(nmi: str, kept: Key, lost: Key) -> None:
        later, earlier = (kept, lost) if kept.sequence > lost.sequence else (lost, kept)
        why = "later in the file" if kept.update == lost.update else "later UpdateDateTime"
        day = date.fromordinal(kept.date).isoformat()
        found.add(
            "NEM12-W011",
            name,
            later.line,
            f"NMI {nmi} {kept.suffix} {day} also at line {earlier.line}: "
            f"line {kept.line} wins ({why})",
        )

    return report


def _fill(
    spool: Spool,
    reader: Reader,
    options: ConvertOptions,
    found: Diagnostics,
    sequence: int = 0,
    on_progress: OnProgress | None = None,
) -> None:
    encode = ENCODER.encode
    for record in reader:
        sequence += 1
        reader.progress.tick(sequence, on_progress)
        try:
            if isinstance(record, IntervalDay):
                if not in_range(record.date, options):
                    continue
                _warn_null_data(record.quality_method, record.qualities, found, reader, record)
                key = Key(
                    record.date.toordinal(),
                    record.stream.suffix,
                    0,
                    _stamp(record.update_datetime),
                    sequence,
                    record.line,
                )
                entry = Entry(key, encode(interval_record(record, options)))
                spool.add(record.stream.nmi, entry)
            elif isinstance(record, BasicRead):
                _warn_null_data(record.current_quality_method, (), found, reader, record)
                dates = basic_dates(record)
                if dates is not None and not in_range(dates[1], options):
                    continue
                key = Key(
                    dates[0].toordinal() if dates else 0,
                    record.suffix,
                    sequence,
                    _stamp(record.update_datetime),
                    sequence,
                    record.line,
                )
                entry = Entry(key, encode(basic_record(record, options)))
                spool.add(record.nmi, entry)
        except ConversionError as exc:
            found.add("NEM12-E040", reader.name, record.line, str(exc))


def _warn_null_data(
    quality_method: str,
    spans: tuple[QualitySpan, ...],
    found: Diagnostics,
    reader: Reader,
    record: IntervalDay | BasicRead,
) -> None:
    """CDR has no null-data quality: N goes out as SUBSTITUTE, and the user is told."""
    if quality_method[:1] == "N" or any(span.flag == "N" for span in spans):
        found.add(
            "NEM12-W020", reader.name, record.line, "null data (quality N) sent as SUBSTITUTE"
        )


def _stamp(moment: datetime | None) -> int:
    return 0 if moment is None else stamp(moment)


def link_query(options: ConvertOptions) -> dict[str, str]:
    """The query every link of a response carries (before ``page`` and ``page-size``)."""
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


@dataclass(frozen=True)
class _PageWriter:
    """Writes page ``number`` of a paged response (or its reads as JSON Lines)."""

    spool: Spool
    options: ConvertOptions
    query: dict[str, str]
    size: int
    total: int
    pages: int

    def write(self, stream: BinaryIO, number: int, jsonl: bool = False) -> None:
        bodies = self.spool.bodies(skip=(number - 1) * self.size, limit=self.size)
        if jsonl:
            _write_lines(stream, bodies)
            return
        write_page(stream, bodies, self.options.base_url, self.query, number, self.size, self.total)


def _write_all_pages(folder: Path, numbers: range, page_of: _PageWriter) -> list[Path]:
    """Every page into a hidden staging folder, moved into ``folder`` at the end: Ctrl-C or a
    full disk adds no page to it. Pages an earlier run left there are then removed."""
    paths = [_page_path(folder, number, page_of.pages) for number in numbers]
    with staged_folder(folder) as staging:
        for number, path in zip(numbers, paths, strict=True):
            try:
                with open(staging / path.name, "wb", buffering=1 << 20) as stream:
                    page_of.write(stream, number)
            except OSError as exc:
                exc.filename = os.fspath(path)  # the page, not the hidden staging file
                raise
    _remove_stale_pages(folder, {path.name for path in paths})
    return paths


def _remove_stale_pages(folder: Path, kept: set[str]) -> None:
    """Pages of an earlier run into the same folder would mix with these: remove them."""
    for path in folder.glob("page-*.json"):
        if path.name not in kept and _PAGE_NAME.fullmatch(path.name):
            path.unlink()


def _page_path(folder: str | os.PathLike[str], number: int, pages: int) -> Path:
    width = max(4, len(str(pages)))
    return Path(folder) / f"page-{number:0{width}d}.json"
