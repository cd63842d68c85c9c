"""The database of one environment: its tables, created on first use, and how to open it.

One SQLite file per environment (``<home>/mmt_<env>.sqlite``) in WAL mode, so reports read while
a load writes. ``PRAGMA user_version`` is the schema version; a database from a newer mmtlite is
refused instead of being misread.

Tables:

- ``list_<category>``, one per inbound category: its columns as text, keyed as the category
  says, and ``file_id``, the ledger entry of the file that last set the row (facts keep their
  source).
- ``ledger``: every file applied (content hash, name, category, environment, sequence).
- ``runs`` and ``loads``: the activity log, one row per command run and per file it handled.
- ``errors``: refusals and bad rows, with file, line and column.

Schema 2 adds the migration's state (``rules``, ``tranches``, ``outbound``):

- ``meters``: one row per meter of the master list (or of a tranche): its site and device, its
  status and the first cause of it (``reason``, ``code``, ``via`` the site-mate it comes from,
  ``file_id`` the file holding the fact). Derived from the lists by ``rules.evaluate``; never
  the only truth (the lists are).
- ``evaluations`` and ``history``: every change of a meter's status or cause, with the
  evaluation (time, what triggered it) and the source file.
- ``tranches``, ``tranche_meters``: the selections, the meters as sent to the DCC and which CS
  note and MDM notification carried each.
- ``outbound``: every file written (name, category, sequence, tranche, content hash).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmtlite.categories import CATEGORIES, INBOUND, Category

SCHEMA_VERSION = 2


class SchemaError(Exception):
    """The database cannot be used by this version of mmtlite."""


def list_table(category: Category) -> str:
    """The table holding the rows of an inbound category."""
    return f"list_{category.name.lower()}"


def _list_ddl(category: Category) -> str:
    columns = ", ".join(f"{name} TEXT NOT NULL" for name in (c.name for c in category.columns))
    key = ", ".join(category.key)
    # WITHOUT ROWID: one B-tree keyed as the category says; rows are small and always found by
    # their key, and a sorted bulk insert appends at its right edge.
    return (
        f"CREATE TABLE {list_table(category)} ({columns}, "
        f"file_id INTEGER NOT NULL REFERENCES ledger (file_id), PRIMARY KEY ({key})) WITHOUT ROWID"
    )


_DDL = (
    """CREATE TABLE ledger (
        file_id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        category TEXT NOT NULL,
        env TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        created TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        rows INTEGER NOT NULL,
        forced TEXT,
        load_id INTEGER NOT NULL,
        loaded_at TEXT NOT NULL,
        UNIQUE (category, sequence)
    )""",
    """CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started TEXT NOT NULL,
        ended TEXT,
        outcome TEXT NOT NULL
    )""",
    """CREATE TABLE loads (
        load_id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        file TEXT NOT NULL,
        category TEXT,
        sequence INTEGER,
        sha256 TEXT,
        started TEXT NOT NULL,
        ended TEXT,
        outcome TEXT NOT NULL,
        rows_read INTEGER NOT NULL DEFAULT 0,
        added INTEGER NOT NULL DEFAULT 0,
        changed INTEGER NOT NULL DEFAULT 0,
        removed INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX loads_by_outcome ON loads (outcome)",
    """CREATE TABLE errors (
        error_id INTEGER PRIMARY KEY,
        load_id INTEGER NOT NULL REFERENCES loads (load_id),
        file TEXT NOT NULL,
        line INTEGER,
        "column" TEXT,
        code TEXT NOT NULL,
        message TEXT NOT NULL
    )""",
    "CREATE INDEX errors_by_load ON errors (load_id)",
    *(_list_ddl(CATEGORIES[name]) for name in INBOUND),
)

# The secondary indexes of ``meters``, by name: a bulk insert drops and rebuilds them (a sort
# is several times faster than a million random inserts into each).
METER_INDEXES = {
    # Site-mates (the site rule).
    "meters_by_site": "CREATE INDEX meters_by_site ON meters (site_id)",
    # The devices in use, and their meters (EPCL and DMCT), without reading every meter.
    "meters_by_device": "CREATE INDEX meters_by_device ON meters (dmc_id)",
    # The eligible meters in site order (select). Partial: a meter enters and leaves it only
    # when it becomes or stops being eligible, so a selection or an exclusion moves one entry
    # (an index on every status moved every change, a million-row random walk).
    "meters_eligible": "CREATE INDEX meters_eligible ON meters (site_id) WHERE status = '0S'",
    # Counts by status. Changes are written in MSN order, so they walk this index forwards.
    "meters_by_status": "CREATE INDEX meters_by_status ON meters (status)",
}

# Schema 2: the migration's state. ``in_list`` is 0 for a meter of a tranche that has left the
# master list (kept: its tranche still names it).
_DDL_2 = (
    """CREATE TABLE meters (
        msn TEXT PRIMARY KEY,
        site_id TEXT NOT NULL,
        dmc_id TEXT NOT NULL,
        in_list INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL,
        reason TEXT,
        code TEXT,
        via TEXT,
        file_id INTEGER
    ) WITHOUT ROWID""",
    *METER_INDEXES.values(),
    # The few meters with a cause: all the rules need to look at besides the new verdicts.
    "CREATE INDEX meters_flagged ON meters (msn) WHERE reason IS NOT NULL",
    """CREATE TABLE evaluations (
        eval_id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        trigger TEXT NOT NULL,
        file_id INTEGER,
        run_id INTEGER
    )""",
    """CREATE TABLE history (
        msn TEXT NOT NULL,
        eval_id INTEGER NOT NULL,
        old_status TEXT,
        status TEXT,
        reason TEXT,
        code TEXT,
        via TEXT,
        file_id INTEGER,
        tranche_id TEXT,
        PRIMARY KEY (msn, eval_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE tranches (
        tranche_id TEXT PRIMARY KEY,
        requested INTEGER NOT NULL,
        meters INTEGER NOT NULL,
        sites INTEGER NOT NULL,
        eval_id INTEGER NOT NULL
    )""",
    """CREATE TABLE tranche_meters (
        msn TEXT PRIMARY KEY,
        tranche_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        mpxn TEXT NOT NULL,
        dmc_id TEXT NOT NULL,
        cs_note INTEGER,
        mdm_note INTEGER
    ) WITHOUT ROWID""",
    "CREATE INDEX tranche_meters_by_tranche ON tranche_meters (tranche_id, position)",
    """CREATE TABLE outbound (
        outbound_id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        category TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        created TEXT NOT NULL,
        tranche_id TEXT NOT NULL,
        rows INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        folder TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        UNIQUE (category, sequence)
    )""",
)


def connect(database: Path) -> sqlite3.Connection:
    """Open (and on first use create) the database; autocommit, transactions are explicit."""
    database.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database, isolation_level=None, timeout=10.0)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        # Loads insert in key order, touching few pages at a time: 16 MiB of page cache is as
        # fast as 64 (measured at a million rows) and keeps a big load's peak memory down.
        connection.execute("PRAGMA cache_size = -16384")
        connection.execute("PRAGMA temp_store = MEMORY")
        _ensure_schema(connection, database)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise SchemaError(f"{database} cannot be used: {exc}") from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _ensure_schema(connection: sqlite3.Connection, database: Path) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{database} has schema version {version}, this mmtlite knows {SCHEMA_VERSION}: "
            "use a newer mmtlite"
        )
    with transaction(connection):
        # Another process may have created it while this one waited for the write lock.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            if connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
                raise SchemaError(f"{database} is not an mmtlite database (it has other tables)")
            for statement in (*_DDL, *_DDL_2):
                connection.execute(statement)
        elif version == 1:
            from mmtlite.rules import evaluate  # the rules need the tables made here

            for statement in _DDL_2:
                connection.execute(statement)
            evaluate(connection, "schema upgrade", new_meters=True)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


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
