"""The data every experiment encodes: one register's reads for one day, in the standard's order.

Experiments must carry this exactly (the lossless ones); the round trip compares it whole:
registers, dates, interval length, values (the file's decimals) and per-interval quality.
Values keep the file's sign; an experiment that writes export as negative numbers must
restore it when decoding.
"""

from __future__ import annotations

import operator
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import date
from functools import cached_property
from itertools import groupby
from typing import Literal, NamedTuple, Protocol

import msgspec

import nem2cdr
from nem2cdr.cdr_model import Quality
from nem2cdr.exact import Number, decimal_places, exact_sum
from nem2cdr.fields import stamp
from nem2cdr.latest import Copy, wins
from nem2cdr.model import IntervalDay
from nem2cdr.reader import Reader
from nem2cdr.sources import Source
from nem2cdr.usage import read_qualities, span_runs
from nem2cdr_experiments.json_numbers import number_array, written


class QualityRange(msgspec.Struct, frozen=True, array_like=True):
    start: int  # 1-based, inclusive
    end: int
    quality: Quality  # SUBSTITUTE or FINAL_SUBSTITUTE: actual intervals are not listed


Prepared = Literal["places", "aggregate", "signed_text"]  # DayRead's shared derived values


class DayRead(msgspec.Struct, frozen=True, dict=True):
    """One register's day. What several experiments derive from it (the signed values, their
    JSON text, the exact aggregate) is computed once per read and kept (``dict=True`` lets a
    frozen Struct hold ``cached_property`` values; they are not fields, so equality, encoding
    and the round trip ignore them)."""

    nmi: str
    register_id: str
    suffix: str
    meter_serial: str
    uom: str
    interval_length: int
    date: str  # YYYY-MM-DD
    values: list[float]
    qualities: list[QualityRange]  # maximal runs of equal non-actual quality

    @property
    def export(self) -> bool:
        return self.suffix.startswith("B")

    @cached_property
    def signed_values(self) -> list[float]:
        """The values as the shapes write them: export negative."""
        return written(self.values, self.export)

    @cached_property
    def signed_text(self) -> bytes:
        """``signed_values`` as a JSON array of the file's decimals (``number_array``)."""
        return number_array(self.signed_values)

    @cached_property
    def places(self) -> int | None:
        """An upper bound of the values' decimal places (``nem2cdr.exact.decimal_places``)."""
        return decimal_places(self.values)

    @cached_property
    def aggregate(self) -> Number:
        """The day's exact total, signed as written."""
        return exact_sum(self.values, self.places, self.export)


class UsageData(msgspec.Struct, frozen=True):
    source: str
    reads: list[DayRead]  # NMI ascending, date descending, suffix ascending

    @property
    def values(self) -> int:
        return sum(len(read.values) for read in self.reads)


def quality_ranges(day: IntervalDay) -> list[QualityRange]:
    return [
        QualityRange(q.start_interval, q.end_interval, q.quality)
        for q in read_qualities(span_runs(day.qualities))
    ]


def day_read(day: IntervalDay) -> DayRead:
    stream, qualities = day.stream, quality_ranges(day)
    identity = (stream.nmi, stream.register_id, stream.suffix, stream.meter_serial, stream.uom)
    return DayRead(*identity, stream.interval_length, day.date.isoformat(), day.values, qualities)


def from_days(source: str, days: Iterable[IntervalDay]) -> UsageData:
    """The latest copy of each (NMI, suffix, date), in the standard's order (in memory)."""
    latest: dict[tuple[str, str, str], tuple[Copy, DayRead]] = {}
    for position, day in enumerate(days):
        read = day_read(day)
        stream = day.stream
        key = (stream.nmi, stream.suffix, read.date)
        copy = Copy(stamp(day.update_datetime) if day.update_datetime else 0, position)
        held = latest.get(key)
        if held is None or wins(copy, held[0]):
            latest[key] = (copy, read)
    reads = [read for _, read in latest.values()]
    # Stable sorts, last key first: NMI ascending, date descending, suffix ascending.
    reads.sort(key=lambda r: r.suffix)
    reads.sort(key=lambda r: r.date, reverse=True)
    reads.sort(key=lambda r: r.nmi)
    return UsageData(source, reads)


OnProgress = Callable[[float], None]  # told the fraction done, 0 to 1


class LoadError(ValueError):
    """The file has errors: experiments on a partly read file would mislead."""


class Totals(NamedTuple):
    """What a payload's frame needs before its first record: counts and the latest day."""

    source: str
    reads: int
    values: int
    latest_date: str  # YYYY-MM-DD; "" for no reads


def totals_of(data: UsageData) -> Totals:
    latest = max((read.date for read in data.reads), default="")
    return Totals(data.source, len(data.reads), data.values, latest)


def by_nmi(data: UsageData) -> Iterator[UsageData]:
    """``data`` in parts of one NMI each, in order (the unit every experiment encodes)."""
    for _, reads in groupby(data.reads, key=operator.attrgetter("nmi")):
        yield UsageData(data.source, list(reads))


class Parts(Protocol):
    """Data read one NMI at a time: the in-memory ``UsageData`` or a file's ``Store``."""

    @property
    def totals(self) -> Totals: ...

    def parts(self) -> Iterator[UsageData]: ...


class InMemory(NamedTuple):
    data: UsageData

    @property
    def totals(self) -> Totals:
        return totals_of(self.data)

    def parts(self) -> Iterator[UsageData]:
        return by_nmi(self.data)


_SCHEMA = """
CREATE TABLE reads (
    nmi TEXT NOT NULL, day INTEGER NOT NULL, suffix TEXT NOT NULL,
    copy_update INTEGER NOT NULL, copy_position INTEGER NOT NULL,
    size INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (nmi, day, suffix)
) WITHOUT ROWID
"""
# The latest copy wins (nem2cdr.latest.wins: the later update, then the later position).
_UPSERT = """
INSERT INTO reads VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (nmi, day, suffix) DO UPDATE SET
    copy_update = excluded.copy_update, copy_position = excluded.copy_position,
    size = excluded.size, body = excluded.body
WHERE (excluded.copy_update, excluded.copy_position) >= (copy_update, copy_position)
"""
_BATCH = 2000
_encode_read = msgspec.msgpack.Encoder().encode
_decode_read = msgspec.msgpack.Decoder(DayRead).decode


class Store:
    """A file's latest copies in a temporary SQLite table, ordered as the standard orders them.

    The table's key (NMI, minus the day number, suffix) is the standard's order, so reading it
    back is a scan: the file is read once and memory stays one NMI's worth, whatever the size
    and order of the input. ``day`` is negative so that the latest day comes first.
    """

    def __init__(self, folder: str, source: str) -> None:
        self.path = os.path.join(folder, "reads.sqlite")
        self.source = source
        self._totals = Totals(source, 0, 0, "")

    @property
    def totals(self) -> Totals:
        return self._totals

    def fill(self, days: Iterable[IntervalDay]) -> None:
        with closing(sqlite3.connect(self.path)) as db:
            db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
            batch: list[tuple[str, int, str, int, int, int, bytes]] = []
            for position, day in enumerate(days):
                read = day_read(day)
                update = stamp(day.update_datetime) if day.update_datetime else 0
                key = (read.nmi, -day.date.toordinal(), read.suffix)
                batch.append((*key, update, position, len(read.values), _encode_read(read)))
                if len(batch) == _BATCH:
                    db.executemany(_UPSERT, batch)
                    batch.clear()
            db.executemany(_UPSERT, batch)
            db.commit()
            reads, values, latest = db.execute(
                "SELECT count(*), coalesce(sum(size), 0), min(day) FROM reads"
            ).fetchone()
        last = date.fromordinal(-latest).isoformat() if latest is not None else ""
        self._totals = Totals(self.source, reads, values, last)

    def parts(self) -> Iterator[UsageData]:
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT nmi, body FROM reads ORDER BY nmi, day, suffix")
            for _, group in groupby(rows, key=operator.itemgetter(0)):
                yield UsageData(self.source, [_decode_read(body) for _, body in group])


class _Days:
    """The reader's interval days; NEM13 basic reads counted, not dropped unseen."""

    def __init__(self, reader: Reader, on_progress: OnProgress | None) -> None:
        self.reader, self.on_progress = reader, on_progress
        self.basic_reads = 0
        self.first_basic_line = 0

    def __iter__(self) -> Iterator[IntervalDay]:
        for count, record in enumerate(self.reader, 1):
            self.reader.progress.tick(count, self.on_progress)
            if isinstance(record, IntervalDay):
                yield record
            else:
                self.basic_reads += 1
                self.first_basic_line = self.first_basic_line or record.line


@contextmanager
def opened(source: Source, on_progress: OnProgress | None = None) -> Iterator[Store]:
    """Read a NEM12 file into a ``Store``; refuses files with errors (``LoadError``).
    ``on_progress(fraction)`` is told now and then how much of the file is read."""
    reader = nem2cdr.read(source)
    with tempfile.TemporaryDirectory(prefix="nem2cdr-experiments-") as folder:
        store, days = Store(folder, reader.name), _Days(reader, on_progress)
        store.fill(days)
        if not reader.diagnostics.ok:
            first = reader.diagnostics.errors[0]
            raise LoadError(f"{first} (errors in the file: {reader.diagnostics.error_count})")
        if days.basic_reads and store.totals.reads:
            # Refused, not dropped: a report on part of the file's data would mislead.
            raise LoadError(
                f"{reader.name}:{days.first_basic_line}: the file mixes NEM12 interval data with "
                f"{days.basic_reads:,} NEM13 basic reads, which the experiments do not encode; "
                "run them on the NEM12 part alone"
            )
        if not store.totals.reads:
            raise LoadError(f"{reader.name}: no interval data (NEM12 300 records) to encode")
        yield store


def load(source: Source) -> UsageData:
    """A NEM12 file's data whole, in memory: for small files and tests (``opened`` streams)."""
    with opened(source) as store:
        return UsageData(store.source, [read for part in store.parts() for read in part.reads])
