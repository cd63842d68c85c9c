"""``nem2cdr export`` as a library call: NEM12/NEM13 files to a CSV or Parquet table.

The inputs are read as one input (a day given twice, in one file or two, is kept once: the
later UpdateDateTime, then the later copy, as ``convert`` decides). Interval data goes to
``out`` in the long or the daily shape; NEM13 accumulation reads go to a table of their own
(``out`` itself when the inputs hold nothing else, else a file beside it named
``NAME-accumulation.EXT``). Each file is written whole or not at all, and with errors in the
inputs nothing is written unless ``keep_going``. Usually the inputs are read once; a day given
twice, NEM13 reads or errors make it two reads (see ``_one_read``), with the same output.

CSV is RFC 4180 as Arrow writes it (text quoted, a header row): values are the file's own
text, times ISO 8601 with the NEM's +10:00, the daily shape's lists JSON arrays. Parquet keeps
the Arrow types: decimals, time-zone-aware timestamps, lists.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, Literal

from nem2cdr.atomic import STDOUT, atomic_write, replaces
from nem2cdr.diagnostics import Diagnostics
from nem2cdr.frames import ExportError, Sources, as_list, surveyed
from nem2cdr.model import IntervalDay
from nem2cdr.parallel import Forked, Workers, cores, halves
from nem2cdr.reader import Part
from nem2cdr.survey import Digits, Input, Located, Survey, second_read, surveying
from nem2cdr.tables import (
    BATCH_ROWS,
    DecimalTooWide,
    Groups,
    Options,
    Shape,
    as_text,
    build,
    check_width,
    need,
    schema,
)
from nem2cdr.usage import OptionsError

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")


@dataclass
class ExportResult:
    ok: bool  # False: the inputs had errors and nothing was written
    rows: int  # rows of the interval table (intervals, or days in the daily shape)
    accumulation_rows: int  # NEM13 reads
    written: list[str]  # the files written ("-" for standard output)
    diagnostics: Diagnostics  # every finding, as ``validate`` reports it
    reads: int = 2  # times the inputs were read: 1 when the first read wrote the table too


def accumulation_path(out: str | os.PathLike[str]) -> str:
    """Where the NEM13 reads go when ``out`` holds the interval data."""
    path = Path(out)
    return os.fspath(path.with_name(f"{path.stem}-accumulation{path.suffix}"))


def export(
    sources: Sources,
    out: str | os.PathLike[str] = STDOUT,
    *,
    to: Format = "csv",
    shape: Literal["long", "daily"] = "long",
    keep_superseded: bool = False,
    keep_going: bool = False,
    strict: bool = False,
    batch_rows: int = BATCH_ROWS,
    workers: Workers = 1,
) -> ExportResult:
    """Write the inputs' interval data (and NEM13 reads) to ``out`` as ``to`` in ``shape``.

    Superseded days are left out, or kept and flagged (a ``superseded`` column) with
    ``keep_superseded``. Raises ``OptionsError`` for standard output when the inputs hold both
    NEM12 and NEM13 data (two tables), ``OSError``
    when a file cannot be written, ``MissingExtra`` without pyarrow, ``DecimalTooWide`` when
    the inputs' decimals need more than 38 digits. ``workers`` above 1 (or "auto" from three
    cores on, see ``processes``) lets one big plain file be read in two processes; the output
    is the same.
    """
    need("pyarrow", "arrow")
    if to not in FORMATS:
        raise OptionsError(f"cannot export to {to!r}: choose from {', '.join(FORMATS)}")
    inputs = as_list(sources)
    parts = halves(inputs[0], processes(workers)) if len(inputs) == 1 else None
    reads: list[Input] = [(inputs[0], part) for part in parts] if parts else list(inputs)
    with _jemalloc():
        first: Survey | None = None
        if parts is None and replaces(out):
            once = _one_read(reads, out, to, shape, keep_superseded, keep_going, strict, batch_rows)
            if isinstance(once, ExportResult):
                return once
            first = once
        try:
            found, options = surveyed(
                reads,
                strict=strict,
                keep_going=keep_going,
                keep_superseded=keep_superseded,
                found=first,
            )
        except ExportError as exc:
            return ExportResult(False, 0, 0, [], exc.diagnostics)
        return _two_reads(reads, parts, out, to, shape, found, options, strict, batch_rows)


def _two_reads(
    reads: list[Input],
    parts: tuple[Part, Part] | None,
    out: str | os.PathLike[str],
    to: Format,
    shape: Shape,
    found: Survey,
    options: Options,
    strict: bool,
    batch_rows: int,
) -> ExportResult:
    """The second read, writing what the first read (``found``) decided."""
    tables: dict[Shape, str] = {}
    if found.days or not found.basic_reads:
        tables[shape] = os.fspath(out)
    if found.basic_reads:
        if tables and os.fspath(out) == STDOUT:
            raise OptionsError(
                "the inputs hold interval days and NEM13 reads, two tables: give a file (-o)"
            )
        tables["accumulation"] = accumulation_path(out) if tables else os.fspath(out)
    if to == "csv":
        options = replace(options, text_values=True)
    plan = _Plan(reads, found, options, shape, list(tables), strict, batch_rows)
    counts = dict.fromkeys(tables, 0)
    with ExitStack() as stack:
        # A big plain file: a forked child builds the second half's batches into Arrow files
        # while this process builds and writes the first half's; then it writes the child's.
        spill = Path(stack.enter_context(tempfile.TemporaryDirectory())) if parts else None
        child = Forked(lambda: plan.spill(spill)) if spill is not None else None
        try:
            writers: dict[Shape, _Writer] = {}
            for table, path in tables.items():
                stream = stack.enter_context(atomic_write(path))
                writers[table] = stack.enter_context(_Writer(to, stream, schema(table, options)))
            for table, batch in plan.batches(0, 1 if parts else None):
                counts[table] += writers[table].write(batch)
        except BaseException:
            if child is not None:
                child.kill()
            raise
        if child is not None and spill is not None:
            spilled = child.join() is not None
            later = plan.spilled(spill) if spilled else plan.batches(1, None)
            for table, batch in later:  # a failed child: this process reads that half too
                counts[table] += writers[table].write(batch)
    return ExportResult(
        True,
        counts.get(shape, 0),
        counts.get("accumulation", 0),
        list(tables.values()),
        found.diagnostics,
    )


class _GuessWrong(Exception):
    """What the one read wrote is not what two reads would write."""


def _one_read(
    reads: list[Input],
    out: str | os.PathLike[str],
    to: Format,
    shape: Shape,
    keep_superseded: bool,
    keep_going: bool,
    strict: bool,
    batch_rows: int,
) -> ExportResult | Survey:
    """The export in one read when that writes what two reads write; else the first read
    alone (the survey, complete), for the second to write from.

    A table's first row must know the decimal type, which copies of a day are left out, and
    whether the inputs have errors: all known only at the end of a read. In the usual file a
    day is given once, every record is an interval day, nothing is wrong, and the first
    batch's values need as many digits as any: so the first read writes the table as it goes,
    on that guess, to a temporary that becomes ``out`` only at the end. The first record that
    proves it wrong (a second copy of a day, a NEM13 read, an error without ``keep_going``, a
    value wider than the first batch's) gives the temporary up, and the read goes on as the
    survey alone. The first read was a fifth of an export's CPU time (1.8 s of 12 on a 95 MB
    5-minute file) and most of the time before the first row.
    """
    result = Survey(Diagnostics(strict=strict))
    records = surveying(reads, result, strict=strict)
    guessed: list[Digits] = []

    def checked() -> Iterator[Located]:
        for item, reader in records:
            if result.superseded or result.basic_reads:
                raise _GuessWrong
            if guessed and result.digits != guessed[0]:
                raise _GuessWrong
            if not keep_going and (reader.diagnostics.error_count or not result.diagnostics.ok):
                raise _GuessWrong
            yield item

    groups = _grouped(checked(), shape, [shape], batch_rows)
    rows = 0
    try:
        first = next(groups, None)
        if first is None:  # no interval day: the two reads write the empty table
            raise _GuessWrong
        guessed.append(replace(result.digits))
        try:
            check_width(guessed[0])
        except DecimalTooWide:
            raise _GuessWrong from None  # the survey's end says so, about all of the inputs
        options = Options(guessed[0], keep_superseded, text_values=to == "csv")
        table_schema = schema(shape, options)
        with atomic_write(out) as stream, _Writer(to, stream, table_schema) as writer:
            for _, batch in _built(chain([first], groups), {shape: table_schema}):
                rows += writer.write(batch)
            if not (keep_going or result.diagnostics.ok):  # found after the last record
                raise _GuessWrong
    except (_GuessWrong, OSError) as exc:
        for _ in records:  # the rest of the survey
            pass
        # An output that cannot be written: two reads would not have opened it for inputs
        # with errors or too wide, and said so instead.
        if isinstance(exc, OSError) and _writes(result, keep_going):
            raise
        return result
    return ExportResult(True, rows, 0, [os.fspath(out)], result.diagnostics, reads=1)


def _writes(found: Survey, keep_going: bool) -> bool:
    """Whether two reads would write the table of what the first read ``found``."""
    try:
        surveyed([], strict=False, keep_going=keep_going, keep_superseded=False, found=found)
    except (ExportError, DecimalTooWide):
        return False
    return True


def _grouped(
    items: Iterator[Located], shape: Shape, tables: list[Shape], rows: int
) -> Iterator[tuple[Shape, list[Located]]]:
    """(table, group of records) for each record batch of ``tables``, in order."""
    groups = {table: Groups(rows) for table in tables}
    for item in items:
        table = shape if isinstance(item.record, IntervalDay) else "accumulation"
        held = groups[table].add(item)
        if held is not None:
            yield table, held
    for table, group in groups.items():
        rest = group.rest()
        if rest is not None:
            yield table, rest


def _built(
    groups: Iterator[tuple[Shape, list[Located]]], schemas: dict[Shape, Any]
) -> Iterator[tuple[Shape, Any]]:
    """(table, record batch) of each group, in order, built here: a thread of their own made
    a 95 MB export slower, not faster (7.4 s against 6.4-6.9 s; the building's Python and the
    reading's take turns at the GIL)."""
    for table, held in groups:
        yield table, build(table, schemas[table], held)


def processes(workers: Workers, available: int | None = None) -> Workers:
    """The processes an export uses for ``workers``: "auto" is two only from three cores on
    (``available``, by default this process's).

    The writer has a thread of its own, so one process already keeps two cores busy. Measured
    on two cores (95 MB 5-minute file, Parquet): one process 8.9 s, two 9.1 s for 20% more CPU
    time and an Arrow spill of about 11 times the input on disk; with one core busy elsewhere,
    11.6 s against 14.0 s (CSV 23.8 s against 26.0 s).
    """
    if workers != "auto":
        return workers
    return 2 if (cores() if available is None else available) >= 3 else 1


@contextmanager
def _jemalloc() -> Iterator[None]:
    """Arrow allocates from jemalloc while the export runs (the forked child too), where this
    pyarrow has it (its Linux wheels do), then from the pool it had before. The pool is the
    process's: anything else using Arrow meanwhile allocates from jemalloc too, which is safe
    (a buffer goes back to the pool it came from).

    Each batch allocates and frees large buffers. Arrow's default pool on Linux, mimalloc,
    kept their pages: 40-70 MB more per process than the batches in use (50 MB of 5-minute
    data), the most around the compressed Arrow stream from the child. The C library's malloc
    gives them back but fragments: on a 1.14 GB file the writing process grew past 400 MB.
    jemalloc does neither.
    """
    pa = need("pyarrow", "arrow")
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without it
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    # Freed pages go back at once (0, also Arrow's default), not after a decay time, which
    # applies per arena: the writer's thread has its own. With 100 ms the 323 MB file's export
    # once peaked at 300.3 MB under CI's full-suite load (228 MB alone); 0 and 100 measure the
    # same time alone (23.5 s and 23.7 s).
    pa.jemalloc_set_decay_ms(0)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@dataclass(frozen=True)
class _Plan:
    """What the second read makes of the inputs: the batches of each table."""

    reads: list[Input]
    found: Survey
    options: Options
    shape: Shape
    tables: list[Shape]
    strict: bool
    rows: int

    def batches(self, first: int, last: int | None) -> Iterator[tuple[Shape, Any]]:
        """(table, record batch) of the inputs ``first`` to ``last``, in order."""
        items = second_read(
            self.reads,
            self.found,
            strict=self.strict,
            keep_superseded=self.options.keep_superseded,
            first=first,
            last=last,
        )
        schemas = {table: schema(table, self.options) for table in self.tables}
        return _built(_grouped(items, self.shape, self.tables, self.rows), schemas)

    def spill(self, folder: Path) -> bool:
        """(In the child.) The second half's batches into one Arrow file per table."""
        pa = need("pyarrow", "arrow")
        compressed = pa.ipc.IpcWriteOptions(compression="lz4")
        with ExitStack() as stack:
            files = {
                table: stack.enter_context(
                    pa.ipc.new_stream(
                        str(folder / table), schema(table, self.options), options=compressed
                    )
                )
                for table in self.tables
            }
            for table, batch in self.batches(1, None):
                files[table].write_batch(batch)
        return True

    def spilled(self, folder: Path) -> Iterator[tuple[Shape, Any]]:
        """The child's batches back, a batch at a time: read, not memory-mapped, whose pages
        would stay in this process's memory until the end."""
        pa = need("pyarrow", "arrow")
        for table in self.tables:
            with pa.OSFile(str(folder / table)) as source:
                yield from ((table, batch) for batch in pa.ipc.open_stream(source))


# Record batches per Parquet row group. The Parquet writer holds every row group's metadata
# until it writes the footer, about 14 KiB a row group of the long table: with a row group per
# batch, the 4,484 of a 1.14 GB file took 61 MB, and writing the footer 80 MB more at the end
# (peak 342 MiB). Two batches a row group halve that; more would hold more batches at once (9 MB
# each in the long shape; one row group is written while the next is gathered): with four, the
# writing process of a 95 MB file peaked at 320 MB instead of 235. Row groups of 131,072
# intervals are about DuckDB's own size (122,880 rows).
ROW_GROUP_BATCHES = 2


# The text columns whose statistics the Parquet file keeps.
_FILTERED = ("nmi", "suffix")


class _Writer:
    """Record batches into one CSV or Parquet stream, encoded on a thread of its own.

    Arrow's writers release the GIL while they encode, so the thread writes one row group (or
    CSV batch) while the caller builds the next: on a 95 MB 5-minute file the Parquet writer is
    a third of the export's CPU time. At most one is being written while the next is gathered.
    """

    def __init__(self, to: Format, stream: BinaryIO, table_schema: Any) -> None:
        self.to = to
        self._held: list[Any] = []  # Parquet: the batches of the row group being gathered
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="nem2cdr-writer")
        self._writing: Future[None] | None = None
        if to == "parquet":
            pa, pq = need("pyarrow", "arrow"), need("pyarrow.parquet", "arrow")
            types = pa.types
            text = [f.name for f in table_schema if types.is_string(f.type)]
            # Measured on a 5-minute file: dictionaries for the text (a value per day, repeated
            # per interval) and deltas for the times and line numbers write 9x smaller files,
            # faster than the defaults. Minimum and maximum are kept for the columns a reader
            # skips row groups by (the NMI, the suffix, times, values, codes), not for the other
            # text, where computing them took a sixth of the writer's time, nor inside the daily
            # shape's lists (named by their leaves, not their columns).
            self._inner = pq.ParquetWriter(
                stream,
                table_schema,
                use_dictionary=text,
                write_statistics=[
                    f.name for f in table_schema if f.name not in text or f.name in _FILTERED
                ],
                column_encoding={
                    f.name: "DELTA_BINARY_PACKED"
                    for f in table_schema
                    if types.is_timestamp(f.type) or types.is_int64(f.type)
                },
                store_decimal_as_integer=True,
            )
        else:
            pa, csv = need("pyarrow", "arrow"), need("pyarrow.csv", "arrow")
            text_schema = as_text(pa.RecordBatch.from_pylist([], schema=table_schema)).schema
            self._inner = csv.CSVWriter(stream, text_schema)

    def write(self, batch: Any) -> int:
        if self.to == "csv":
            self._hand_over(self._inner.write_batch, as_text(batch))
        else:
            self._held.append(batch)
            if len(self._held) == ROW_GROUP_BATCHES:
                self._write_row_group()
        return int(batch.num_rows)

    def _write_row_group(self) -> None:
        if self._held:
            table = need("pyarrow", "arrow").Table.from_batches(self._held)
            self._held = []
            self._hand_over(self._inner.write_table, table, row_group_size=table.num_rows)

    def _hand_over(self, work: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Run ``work`` on the writer's thread once the previous work is done (whose error,
        if any, is raised here)."""
        self._wait()
        self._writing = self._thread.submit(work, *args, **kwargs)

    def _wait(self) -> None:
        if self._writing is not None:
            # Forgotten only once done: Ctrl-C stops the waiting here, not the write.
            self._writing.result()
            self._writing = None

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, failure: type[BaseException] | None, *_: object) -> None:
        """The last row group and the Parquet footer. No write may overlap the footer or the
        stream's closing (atomic_write's, next), and Ctrl-C stops the waiting for a write, not
        the write: so after a failure (or Ctrl-C while this waits) the write in flight is
        awaited, the footer goes to the temporary atomic_write drops, and their errors give
        way to the failure."""
        completed = False
        try:
            if failure is None:
                self._write_row_group()
                self._wait()
                completed = True
        finally:
            self._thread.shutdown(wait=True)
            try:
                self._inner.close()
            except Exception:
                if completed:
                    raise
