"""Opening an environment's database as mmtlite uses it: created on first use, upgraded in place.

Above ``rules``: the upgrade from schema 1 derives every meter's status, which is the rules'
work; below everything that reads or writes the database (they all open it with ``connect``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from mmtlite import schema
from mmtlite.db import (
    SchemaError,
    explained,
    open_file,
    quick_check,
    transaction,
    usable_home,
)
from mmtlite.rules import evaluate


def connect(
    database: Path, *, create: bool = True, check: bool | Sequence[str] = False
) -> sqlite3.Connection:
    """Open the database (created on first use with ``create``, else it must exist);
    autocommit, transactions are explicit. ``check``: SQLite's quick check first, of every
    page (True) or of these tables (the writers; ``db`` says what it costs)."""
    if create and not database.exists():
        _create(database)
    connection = open_file(database)
    try:
        _ensure_schema(connection, database)
        if check:
            quick_check(connection, database, () if check is True else check)
    except sqlite3.Error as exc:
        connection.close()
        raise explained(database, exc) from None
    except BaseException:
        connection.close()
        raise
    return connection


def _create(database: Path) -> None:
    """A new database with its schema, put in place whole: a reader or another writer never
    sees the empty file SQLite starts with (which the header check refuses as damaged)."""
    usable_home(database.parent)
    building = database.with_name(f".{database.name}.{os.getpid()}.new")
    try:
        connection = open_file(building, create=True)
        try:
            _ensure_schema(connection, building)
        except sqlite3.Error as exc:
            raise explained(database, exc) from None
        finally:
            connection.close()  # the WAL is checkpointed into the file and removed
        try:
            os.link(building, database)  # never over a database another process made meanwhile
        except FileExistsError:
            pass
        except OSError as exc:
            raise SchemaError(f"{database} cannot be created: {exc.strerror or exc}") from None
    finally:
        for leftover in (
            building,
            *(building.with_name(building.name + end) for end in ("-wal", "-shm")),
        ):
            leftover.unlink(missing_ok=True)


def _ensure_schema(connection: sqlite3.Connection, database: Path) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == schema.SCHEMA_VERSION:
        return
    if version > schema.SCHEMA_VERSION:
        raise SchemaError(
            f"{database} has schema version {version}, this mmtlite knows "
            f"{schema.SCHEMA_VERSION}: use a newer mmtlite"
        )
    with transaction(connection):
        # Another process may have created it while this one waited for the write lock.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            if connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
                raise SchemaError(f"{database} is not an mmtlite database (it has other tables)")
            for statement in (*schema.DDL, *schema.DDL_2):
                connection.execute(statement)
        elif version == 1:
            for statement in schema.DDL_2:
                connection.execute(statement)
            evaluate(connection, "schema upgrade", new_meters=True)
        elif version == 2:
            schema.from_2(connection)
        elif version == 3:
            schema.from_3(connection)
        connection.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
