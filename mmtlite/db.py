"""Opening an environment's SQLite file, its transactions and its clock: the bottom layer.

Everything that touches the database goes through these; the tables themselves are in
``schema``, and ``migrations.connect`` is what the rest of mmtlite opens a database with (it
creates or upgrades the tables first).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from mmtlite.errors import MmtliteError


class SchemaError(MmtliteError):
    """The home or the database cannot be used (by this version of mmtlite)."""


def open_file(database: Path) -> sqlite3.Connection:
    """The SQLite file (created on first use), autocommit: transactions are explicit."""
    usable_home(database.parent)
    try:
        connection = sqlite3.connect(database, isolation_level=None, timeout=10.0)
    except sqlite3.Error as exc:  # a folder of that name, no permission
        raise SchemaError(f"{database} cannot be used: {exc}") from exc
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        # Loads insert in key order, touching few pages at a time: 16 MiB of page cache is as
        # fast as 64 (measured at a million rows) and keeps a big load's peak memory down.
        connection.execute("PRAGMA cache_size = -16384")
        connection.execute("PRAGMA temp_store = MEMORY")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise SchemaError(f"{database} cannot be used: {exc}") from exc
    return connection


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
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def now() -> str:
    """The time as the database stores it: ISO 8601, UTC, seconds."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_id(cursor: sqlite3.Cursor) -> int:
    """The row id an INSERT made."""
    assert cursor.lastrowid is not None  # an INSERT always sets it
    return cursor.lastrowid
