"""Opening an environment's SQLite file, its transactions and its clock: the bottom layer.

Everything that touches the database goes through these; the tables themselves are in
``schema``, and ``migrations.connect`` is what the rest of mmtlite opens a database with (it
creates or upgrades the tables first).

A damaged database must never be read or written as if sound (a 0-byte file taken as new loses
the ledger, and every file loads again). What is checked, and what it costs at a million meters
(330-445 MB after benchmarks/measure_mmt.py's loads; docs/mmtlite.md, "Damaged databases"):

- every open: the file's header (its first 100 bytes: the SQLite signature, a page size, the
  format versions) and its size (whole pages, at least the pages the header counts); then the
  schema is read. Microseconds: a 0-byte, truncated or foreign file is refused here.
- every writer that changes the lists (load, ingest): on opening, ``PRAGMA quick_check`` of
  the tables any run writes (``loader.LOG_TABLES``: milliseconds); once per run, of every
  page's structure (0.6-1.4 s; ``PageCheck``, beside the first file new to the ledger, passed
  before anything of it is committed): a rerun with nothing to apply pays the first only;
- the writers of tranches (select, export), likewise, of the tables they read and write
  (``meters`` and its indexes, the tranches, the answers, the log: 0.3-0.6 s; ``PageCheck``,
  beside their transaction, passed before it commits): a tranche must be selected in a
  second, and a damaged page they never read (a list's) is found by the next load with a file
  to apply.
- ``mmtlite check-db``: ``PRAGMA integrity_check``, every page and index entry (4.3-6.6 s).
- every ``sqlite3`` error on the way is said in one line naming the database (``explained``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

from mmtlite.errors import MmtliteError


class SchemaError(MmtliteError):
    """The home or the database cannot be used (by this version of mmtlite)."""


class Damaged(SchemaError):
    """The database file is damaged (or is not an SQLite database at all)."""


_SIGNATURE = b"SQLite format 3\0"
_HEADER = 100
# SQLite's primary result codes (sqlite3.h; not all are in the typing stubs).
_FULL = 13
_IOERR = 10
_CANNOT_WRITE = (3, 8, 14)  # PERM, READONLY, CANTOPEN
_DAMAGED = (11, 26)  # CORRUPT, NOTADB
RESTORE = "restore it from a backup (mmtlite check-db tells what is wrong)"


def open_file(database: Path, *, create: bool = False) -> sqlite3.Connection:
    """The SQLite file, autocommit (transactions are explicit); created (with its home) only
    when ``create``: a read must not leave an empty environment behind."""
    if create:
        usable_home(database.parent)
    elif not database.exists():
        existing = next(folder for folder in database.parents if folder.exists())
        if not existing.is_dir():
            raise SchemaError(
                f"{database.parent} cannot be the home: it (or a folder above it) is a file"
            )
        raise SchemaError(
            f"{database} does not exist: no {_env_of(database)} environment under "
            f"{database.parent} (check --home and --env; mmtlite init creates one)"
        )
    check_header(database)
    mode = "rwc" if create else "rw"
    try:
        connection = sqlite3.connect(
            f"{database.absolute().as_uri()}?mode={mode}",
            uri=True,
            isolation_level=None,
            timeout=10.0,
        )
    except sqlite3.Error as exc:  # a folder of that name, no permission
        raise explained(database, exc) from None
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        # Loads insert in key order, touching few pages at a time: 16 MiB of page cache is as
        # fast as 64 (measured at a million rows) and keeps a big load's peak memory down.
        connection.execute("PRAGMA cache_size = -16384")
        # The rules' temporary tables and sorts (a first million-meter list: a few hundred MB)
        # go to a file beyond 96 MiB of cache instead of all into memory: a first load's peak
        # went from 405 to 277 MB, and was no slower (measured in turns on a busy machine).
        connection.execute("PRAGMA temp_store = FILE")
        connection.execute("PRAGMA temp.cache_size = -98304")
    except sqlite3.Error as exc:
        connection.close()
        raise explained(database, exc) from None
    return connection


def _env_of(database: Path) -> str:
    return database.stem.removeprefix("mmt_")


def check_header(database: Path) -> None:
    """``Damaged`` unless ``database`` is missing or looks like a whole SQLite file: its
    signature, page size and format versions, whole pages, at least as many as it counts."""
    try:
        with open(database, "rb") as file:
            header = file.read(_HEADER)
            size = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise SchemaError(f"{database} cannot be used: it is a folder") from None
    except OSError as exc:
        raise SchemaError(f"{database} cannot be read: {exc.strerror or exc}") from None
    if size == 0:
        raise Damaged(
            f"{database} is empty (0 bytes): its ledger and lists are gone; {RESTORE}, or "
            "remove it to start again from nothing"
        )
    if not header.startswith(_SIGNATURE):
        raise Damaged(f"{database} is not an SQLite database (its first bytes): {RESTORE}")
    why = _header_fault(header, size)
    if why:
        raise Damaged(f"{database} is damaged ({why}): {RESTORE}")


def _header_fault(header: bytes, size: int) -> str:
    if len(header) < _HEADER:
        return f"{size} bytes, shorter than its header"
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page > 65536 or page & (page - 1):
        return f"page size {page} in its header"
    if header[18] not in (1, 2) or header[19] not in (1, 2) or header[21:24] != b"\x40\x20\x20":
        return "its header's format bytes"
    if size % page:
        return f"{size:,} bytes is not a whole number of {page}-byte pages: cut short"
    pages = int.from_bytes(header[28:32], "big")
    counted_now = header[24:28] == header[92:96]  # else the count is stale (an old writer)
    if counted_now and pages * page > size:
        return f"{size // page:,} pages of the {pages:,} its header counts: cut short"
    return ""


def explained(database: Path, exc: sqlite3.Error) -> SchemaError:
    """An ``sqlite3`` error as one line naming ``database`` and what to do."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    if code == _FULL or "disk is full" in text:
        return SchemaError(
            f"{database}: the disk is full: what was being written was rolled back (mmtlite "
            "log shows what was done); free some space and run the command again"
        )
    if code == _IOERR:
        return SchemaError(
            f"{database}: disk I/O error (a full disk, a file size limit or a failing device): "
            "what was being written was rolled back (mmtlite log shows what was done); fix the "
            "cause and run the command again"
        )
    if code in _CANNOT_WRITE or ("readonly" in text or "unable to open" in text):
        return SchemaError(
            f"{database} cannot be opened for writing ({text}): the database, its -wal and "
            f"-shm files and the folder {database.parent} must be writable by this user"
        )
    if code in _DAMAGED or "malformed" in text:
        return Damaged(f"{database} is damaged ({text}): {RESTORE}")
    return SchemaError(f"{database} cannot be used: {text}")


def quick_check(connection: sqlite3.Connection, database: Path, tables: Sequence[str] = ()) -> None:
    """``Damaged`` unless SQLite's quick check passes: of every page, or of ``tables`` and
    their indexes only."""
    for pragma in [f"PRAGMA quick_check({table})" for table in tables] or ["PRAGMA quick_check(3)"]:
        found = [row[0] for row in connection.execute(pragma)]
        if found != ["ok"]:
            first = " ".join(" ".join(found[:3]).replace("*** in database main ***", "").split())
            raise Damaged(f"{database} is damaged ({first}): {RESTORE}")


class PageCheck:
    """The quick check of every page (or of ``tables``), on a connection of its own in a
    thread, while the caller goes on (reads and parses a file, applies it in a transaction it
    has not committed): SQLite gives the check the database as it was when it began (WAL), and
    frees the interpreter while it runs, so on two cores its time is hidden. ``passed`` waits
    for it: the caller commits nothing before ``passed`` returns."""

    def __init__(self, database: Path, tables: Sequence[str] = ()) -> None:
        self.database = database
        self.tables = tables  # none: every page
        self.failure: SchemaError | None = None
        self._thread = threading.Thread(target=self._check, name="quick_check", daemon=True)
        self._thread.start()

    def _check(self) -> None:
        try:
            connection = sqlite3.connect(
                f"{self.database.absolute().as_uri()}?mode=ro", uri=True, timeout=10.0
            )
            try:
                quick_check(connection, self.database, self.tables)
            finally:
                connection.close()
        except SchemaError as exc:
            self.failure = exc
        except sqlite3.Error as exc:  # SQLite may raise instead at a page it cannot read
            self.failure = explained(self.database, exc)

    def wait(self) -> None:
        """Wait for the check to end (``failure`` says how)."""
        self._thread.join()

    def passed(self) -> None:
        """Wait for the check; ``Damaged`` (or the error it met) unless it passed."""
        self.wait()
        if self.failure is not None:
            raise self.failure


def integrity(connection: sqlite3.Connection, limit: int = 100) -> list[str]:
    """What SQLite's full integrity check finds (at most ``limit`` lines); empty when sound."""
    found = [row[0] for row in connection.execute(f"PRAGMA integrity_check({int(limit)})")]
    return [] if found == ["ok"] else found


@contextmanager
def explaining(database: Path) -> Iterator[None]:
    """Any ``sqlite3`` error inside said as ``explained`` (a ``SchemaError``)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise explained(database, exc) from None


def usable_home(folder: Path) -> None:
    """Create the home ``folder`` if missing; ``SchemaError`` naming it when it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise SchemaError(
            f"{folder} cannot be the home: it (or a folder above it) is a file"
        ) from None
    except OSError as exc:
        raise SchemaError(f"{folder} cannot be the home: {exc.strerror or exc}") from None


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when anything goes wrong inside."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        # SQLite may have rolled back already (a full disk does): the original error is the
        # one to tell, never "cannot rollback - no transaction is active".
        if connection.in_transaction:
            with suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        raise
    try:
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            with suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        raise


def now() -> str:
    """The time as the database stores it: ISO 8601, UTC, seconds."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_id(cursor: sqlite3.Cursor) -> int:
    """The row id an INSERT made."""
    assert cursor.lastrowid is not None  # an INSERT always sets it
    return cursor.lastrowid
