"""The embedded store ``nem2cdr serve`` answers from: meter files read once into SQLite.

``load(inputs, path)`` makes ``path`` hold the records of ``inputs`` (files, zips, folders),
reading as little as it can: a store built from the same files (same path, size and
modification time) is reused without reading anything; files appended to the end of the
inputs are read and added; any other change (a file changed, removed or moved in the order)
rebuilds the store, so it always holds what a fresh build of the inputs would. Either way a
new file is renamed over the old one: a running server keeps the file it opened, unchanged.

Records are kept as they are read (the model, msgpack-encoded), not as JSON: the payload
depends on the request's ``interval-reads`` and the server's id options, and is made per
request by the converter's own functions. A day given more than once keeps one copy, chosen
by ``nem2cdr.latest.wins`` as ``convert`` chooses: the later UpdateDateTime, then the later
copy (later in the file, or in a file given later).

``Store(path)`` reads a store: how many records a selection holds, and a page of them in the
standard's order (NMI, then readStartDate descending, then registerSuffix).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import msgspec

from nem2cdr.atomic import temporary_for
from nem2cdr.diagnostics import Diagnostics
from nem2cdr.fields import stamp
from nem2cdr.model import BasicRead, IntervalDay, Record
from nem2cdr.reader import Reader
from nem2cdr.usage import basic_dates

# "N2CS" as a big-endian integer: a SQLite file that is not a store is never overwritten.
APPLICATION_ID = 0x4E324353
FORMAT = 1  # bumped when the tables change: an older store is rebuilt
_POSITION_SHIFT = 40  # a record's position: file ordinal << 40 | its sequence in the file
_BATCH = 2000  # rows per executemany
_INTERVAL, _BASIC = 0, 1
_FOLDER_SUFFIXES = (".csv", ".zip")

_SCHEMA = f"""
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {FORMAT};
CREATE TABLE files (
    ordinal INTEGER PRIMARY KEY,  -- the file's place among the inputs, from 1
    path TEXT NOT NULL,           -- absolute
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    records INTEGER NOT NULL,     -- records read (before duplicates are resolved)
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL
);
CREATE TABLE reads (
    nmi TEXT NOT NULL,
    day INTEGER NOT NULL,         -- readStartDate as a date ordinal: orders the records
    suffix TEXT NOT NULL,
    tiebreak INTEGER NOT NULL,    -- 0 for an interval day (copies collide); position for a 250
    end_day INTEGER NOT NULL,     -- the date oldest-date and newest-date compare
    min30 INTEGER NOT NULL,       -- 1 when MIN_30 can carry it (an interval length dividing 30)
    updated INTEGER NOT NULL,     -- UpdateDateTime as CCYYMMDDhhmmss, 0 when absent
    position INTEGER NOT NULL,
    kind INTEGER NOT NULL,        -- {_INTERVAL}: IntervalDay, {_BASIC}: BasicRead
    body BLOB NOT NULL            -- the record, msgpack
);
CREATE UNIQUE INDEX reads_order ON reads (nmi, day DESC, suffix, tiebreak);
"""
# The later copy of a day replaces the held one exactly when nem2cdr.latest.wins says so.
_UPSERT = """
INSERT INTO reads (nmi, day, suffix, tiebreak, end_day, min30, updated, position, kind, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (nmi, day, suffix, tiebreak) DO UPDATE SET
    end_day = excluded.end_day, min30 = excluded.min30, updated = excluded.updated,
    position = excluded.position, kind = excluded.kind, body = excluded.body
WHERE (excluded.updated, excluded.position) >= (reads.updated, reads.position)
"""
_Row = tuple[str, int, str, int, int, int, int, int, int, bytes]
OnFile = Callable[[str], None]


class StoreError(Exception):
    """The store cannot be used: an input is missing, or the file is not a store."""


class FileKey(NamedTuple):
    """What says a file is the one already read: its absolute path, size and mtime."""

    path: str
    size: int
    mtime_ns: int


@dataclass
class LoadResult:
    path: str
    action: str  # "reused", "added" or "built"
    files: int  # inputs in the store
    read: list[str]  # the files read this time (none when reused)
    records: int  # records the store holds
    diagnostics: Diagnostics = field(default_factory=Diagnostics)  # of the files read now


def input_files(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Each input as files: a folder stands for the .csv and .zip files under it (any case;
    AEMO's file names end so) that are not hidden (no name part starting with "."), in name
    order; a file named is read whatever its name. Raises ``StoreError`` for a missing input."""
    files: list[Path] = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            inside = sorted(
                (p for p in path.rglob("*") if p.is_file()), key=lambda p: p.relative_to(path)
            )
            files.extend(
                p
                for p in inside
                if p.suffix.lower() in _FOLDER_SUFFIXES and not _hidden(p.relative_to(path))
            )
        elif path.is_file():
            files.append(path)
        else:
            raise StoreError(f"{os.fspath(given)}: no such file or folder")
    return files


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def file_key(path: Path) -> FileKey:
    status = path.stat()
    return FileKey(os.path.abspath(path), status.st_size, status.st_mtime_ns)


def load(
    inputs: Iterable[str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    on_file: OnFile | None = None,
) -> LoadResult:
    """Make the store at ``path`` hold the records of ``inputs``, reading only what it must
    (see the module's docstring). ``on_file(name)`` is told each file before it is read.
    Files with errors add their good records; the errors are in the result's diagnostics."""
    keys = [file_key(file) for file in input_files(inputs)]
    target = Path(path)
    held = _held_files(target)
    adding = held is not None and held == keys[: len(held)]
    before = len(held) if held is not None and adding else 0
    if adding and before == len(keys):
        return LoadResult(os.fspath(target), "reused", len(keys), [], _count(target))
    # Both an addition and a build write a new file renamed over the old one: a server
    # running on the store keeps the file it opened, which never changes under it (its page
    # cache and its ids stay right).
    temporary = temporary_for(target.resolve())
    temporary.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if adding:
            shutil.copyfile(target, temporary)
        with _connect(temporary) as connection:
            if not adding:
                connection.executescript(_SCHEMA)
            found = _add(connection, keys[before:], before, strict, on_file)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    action = "added" if adding else "built"
    read = [key.path for key in keys[before:]]
    return LoadResult(os.fspath(target), action, len(keys), read, _count(target), found)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    # A build writes a temporary file renamed at the end, and an addition is one transaction:
    # neither needs the journal to survive a crash of the machine, only of the process.
    connection.execute("PRAGMA synchronous = OFF")
    return connection


def _held_files(path: Path) -> list[FileKey] | None:
    """The files a store holds; None when there is no usable store (it is then rebuilt)."""
    if not path.exists():
        return None
    if not path.is_file():  # a FIFO would block SQLite's open until someone writes to it
        raise StoreError(f"{path}: not a nem2cdr store (not a regular file); it is left alone")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            application, version = _identity(connection)
            if application != APPLICATION_ID:
                raise StoreError(f"{path}: not a nem2cdr store; it is left alone")
            if version != FORMAT:
                return None
            rows = connection.execute("SELECT path, size, mtime_ns FROM files ORDER BY ordinal")
            return [FileKey(*row) for row in rows]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a nem2cdr store ({exc}); it is left alone") from exc


def _identity(connection: sqlite3.Connection) -> tuple[int, int]:
    (application,) = connection.execute("PRAGMA application_id").fetchone()
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    return application, version


def _count(path: Path) -> int:
    with Store(path) as store:
        return store.total_records()


def _add(
    connection: sqlite3.Connection,
    keys: Sequence[FileKey],
    before: int,
    strict: bool,
    on_file: OnFile | None,
) -> Diagnostics:
    """Read ``keys`` into the store in one transaction, as files ``before + 1``, ..."""
    found = Diagnostics(strict=strict)
    connection.execute("BEGIN IMMEDIATE")
    try:
        for ordinal, key in enumerate(keys, before + 1):
            if on_file is not None:
                on_file(key.path)
            reader = Reader(key.path, strict=strict, keep_text=True)
            records = 0
            batch: list[_Row] = []
            for records, record in enumerate(reader, 1):
                row = _row(record, ordinal << _POSITION_SHIFT | records)
                if row is None:
                    continue
                batch.append(row)
                if len(batch) >= _BATCH:
                    connection.executemany(_UPSERT, batch)
                    batch.clear()
            connection.executemany(_UPSERT, batch)
            connection.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    ordinal,
                    *key,
                    records,
                    len(reader.diagnostics.errors),
                    reader.diagnostics.warning_count,
                ),
            )
            found.absorb(reader.diagnostics)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return found


_ENCODE = msgspec.msgpack.Encoder().encode


def _row(record: Record, position: int) -> _Row | None:
    if isinstance(record, IntervalDay):
        stream = record.stream
        day = record.date.toordinal()
        return (
            stream.nmi,
            day,
            stream.suffix,
            0,
            day,
            int(30 % stream.interval_length == 0),
            _stamp(record.update_datetime),
            position,
            _INTERVAL,
            # The file's own text holds the values exactly (the reader kept it only then):
            # the floats are not stored twice, which halves the store.
            _ENCODE(msgspec.structs.replace(record, values=[]) if record.values_text else record),
        )
    dates = basic_dates(record)
    if dates is None:  # convert cannot carry it either (NEM12-E040)
        return None
    start, end = dates
    return (
        record.nmi,
        start.toordinal(),
        record.suffix,
        position,
        end.toordinal(),
        1,
        _stamp(record.update_datetime),
        position,
        _BASIC,
        _ENCODE(record),
    )


def _stamp(moment: datetime | None) -> int:
    return 0 if moment is None else stamp(moment)


class Selection(NamedTuple):
    """Which records a request asks for."""

    nmis: tuple[str, ...] | None  # None: every NMI
    oldest: date
    newest: date
    min30: bool  # interval-reads MIN_30: only records it can carry


_DECODE_INTERVAL = msgspec.msgpack.Decoder(IntervalDay).decode
_DECODE_BASIC = msgspec.msgpack.Decoder(BasicRead).decode
_DECODE_VALUES = msgspec.json.Decoder(list[float]).decode


class Store:
    """A store opened read-only; one per process (a connection is not shared by threads)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not Path(path).is_file():
            raise StoreError(f"{os.fspath(path)}: no such store")
        self._connection = sqlite3.connect(
            f"file:{os.path.abspath(path)}?mode=ro", uri=True, check_same_thread=False
        )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    def nmis(self) -> list[str]:
        """Every NMI the store holds, ascending."""
        rows = self._connection.execute("SELECT DISTINCT nmi FROM reads ORDER BY nmi")
        return [nmi for (nmi,) in rows]

    def total_records(self) -> int:
        (count,) = self._connection.execute("SELECT count(*) FROM reads").fetchone()
        return int(count)

    def count(self, selection: Selection) -> int:
        where, parameters = _where(selection)
        row = self._connection.execute(f"SELECT count(*) FROM reads WHERE {where}", parameters)
        return int(row.fetchone()[0])

    def records(self, selection: Selection, skip: int, limit: int) -> Iterator[Record]:
        """Records ``skip`` .. ``skip + limit`` of the selection, in the standard's order."""
        where, parameters = _where(selection)
        rows = self._connection.execute(
            f"SELECT kind, body FROM reads WHERE {where} "
            "ORDER BY nmi, day DESC, suffix, tiebreak LIMIT ? OFFSET ?",
            (*parameters, limit, skip),
        )
        for kind, body in rows:
            if kind == _BASIC:
                yield _DECODE_BASIC(body)
                continue
            day = _DECODE_INTERVAL(body)
            if not day.values:
                # The text's decimals are a JSON array in brackets (the reader keeps only plain
                # unsigned decimals), and msgspec reads each as the float the reader made of it
                # (correctly rounded), twice as fast as float() on each.
                day.values = _DECODE_VALUES(b"[" + day.values_text + b"]")
            yield day


def _where(selection: Selection) -> tuple[str, tuple[object, ...]]:
    oldest, newest = selection.oldest.toordinal(), selection.newest.toordinal()
    # day <= newest follows from end_day <= newest (a read starts before it ends); said
    # apart, it lets SQLite walk the index from the newest day instead of from the first.
    clauses = ["end_day >= ?", "end_day <= ?", "day <= ?"]
    parameters: list[object] = [oldest, newest, newest]
    if selection.min30:
        clauses.append("min30 = 1")
    if selection.nmis is not None:
        clauses.append("nmi IN (SELECT value FROM json_each(?))")
        parameters.append(msgspec.json.encode(selection.nmis).decode())
    return " AND ".join(clauses), tuple(parameters)


def default_path(inputs: Iterable[str | os.PathLike[str]]) -> Path:
    """Where a store lives when none is named: one per set of inputs (their absolute paths),
    under ``$XDG_CACHE_HOME/nem2cdr`` (``~/.cache/nem2cdr``)."""
    names = "\n".join(os.path.abspath(given) for given in inputs)
    digest = hashlib.sha256(names.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "nem2cdr" / f"store-{digest}.sqlite"
