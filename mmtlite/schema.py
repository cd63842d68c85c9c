"""The tables of an environment's database (created and upgraded by ``migrations``).

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

- ``meters``: one row per meter of the master list (or of a tranche): its site, device and MPxN,
  its status and the first cause of it (``reason``, ``code``, ``via`` the site-mate it comes
  from, ``file_id`` the file holding the fact). Derived from the lists by ``rules.evaluate``;
  never the only truth (the lists are). Stored in site order (schema 3): a tranche is a run of
  whole sites, so selecting one rewrites a few thousand neighbouring pages, not every page.
- ``evaluations`` and ``history``: every change of a meter's status or cause made by the rules,
  with the evaluation (time, what triggered it) and the source file. A selection's changes
  (eligible to selected) are recorded once, by ``tranche_meters``; the view ``meter_history``
  shows both as one history.
- ``tranches``, ``tranche_meters``: the selections, the meters as sent to the DCC and which CS
  note and MDM notification carried each.
- ``outbound``: every file written (name, category, sequence, tranche, content hash).

Schema 3 (from 2, in place): ``meters`` keyed by site and MSN and holding the MPxN,
``tranche_meters`` keyed by tranche and position, the selections' history rows moved to the view.

Schema 4 (from 3, in place): ``meters`` without its indexes by device and of the meters with a
cause. Every meter a load adds or removes was an entry in each, at a random place: at a million
meters they cost a load of 100,000 about 0.8 s (benchmarks/mmt_floor.py), while the statements
that read them (after a device list or the codes, every meter judged) read all of ``meters``
anyway.
"""

from __future__ import annotations

import sqlite3

from mmtlite.categories import CATEGORIES, INBOUND, Category

SCHEMA_VERSION = 4


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


DDL = (
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
    # A meter by its MSN: the lists, the answers and the history name meters by MSN.
    "meters_by_msn": "CREATE UNIQUE INDEX meters_by_msn ON meters (msn)",
    # Counts by status, and the eligible meters in site order (its entries carry the key:
    # status, site_id, msn), which is the order of a selection.
    "meters_by_status": "CREATE INDEX meters_by_status ON meters (status)",
}

# Site order: a tranche is a run of whole sites in site order (see above).
_METERS = """CREATE TABLE meters (
        site_id TEXT NOT NULL,
        msn TEXT NOT NULL,
        dmc_id TEXT NOT NULL,
        mpxn TEXT NOT NULL,
        in_list INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL,
        reason TEXT,
        code TEXT,
        via TEXT,
        file_id INTEGER,
        PRIMARY KEY (site_id, msn)
    ) WITHOUT ROWID"""

# Tranche by tranche, in the order the DCC was sent them: a selection appends.
_TRANCHE_METERS = """CREATE TABLE tranche_meters (
        tranche_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        msn TEXT NOT NULL,
        site_id TEXT NOT NULL,
        mpxn TEXT NOT NULL,
        dmc_id TEXT NOT NULL,
        cs_note INTEGER,
        mdm_note INTEGER,
        PRIMARY KEY (tranche_id, position)
    ) WITHOUT ROWID"""

# A selection's changes as history rows (the old status of a selected meter was eligible).
_METER_HISTORY = """CREATE VIEW meter_history AS
    SELECT msn, eval_id, old_status, status, reason, code, via, file_id, tranche_id FROM history
    UNION ALL
    SELECT t.msn, x.eval_id, '0S', '1', NULL, NULL, NULL, NULL, t.tranche_id
    FROM tranche_meters AS t JOIN tranches AS x USING (tranche_id)"""

_MIGRATION_INDEXES = (
    *METER_INDEXES.values(),
    # The few tranche meters that left the master list (kept for their tranche).
    "CREATE INDEX meters_left ON meters (msn) WHERE in_list = 0",
    # A meter is in at most one tranche, ever.
    "CREATE UNIQUE INDEX tranche_meters_by_msn ON tranche_meters (msn)",
)
# Schema 2 (and 3): the migration's state. ``in_list`` is 0 for a meter of a tranche that has
# left the master list (kept: its tranche still names it).
DDL_2 = (
    _METERS,
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
    _TRANCHE_METERS,
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
    *_MIGRATION_INDEXES,
    _METER_HISTORY,
)


def from_2(connection: sqlite3.Connection) -> None:
    """Schema 2 to 3, in the caller's transaction: the same facts, rearranged."""
    execute = connection.execute
    for index in (
        "meters_by_site",
        "meters_by_device",
        "meters_eligible",
        "meters_by_status",
        "meters_flagged",
        "tranche_meters_by_tranche",
    ):
        execute(f"DROP INDEX {index}")
    execute("ALTER TABLE meters RENAME TO meters_2")
    execute("ALTER TABLE tranche_meters RENAME TO tranche_meters_2")
    execute(_METERS)
    execute(_TRANCHE_METERS)
    # The MPxN from the master list, or for a tranche meter that left it, as its tranche sent
    # it (schema 2 deleted a meter that left the list and was in no tranche).
    execute(
        "INSERT INTO meters SELECT m.site_id, m.msn, m.dmc_id, coalesce(l.mpxn, t.mpxn, ''), "
        "m.in_list, m.status, m.reason, m.code, m.via, m.file_id FROM meters_2 AS m "
        "LEFT JOIN list_mmt AS l USING (msn) LEFT JOIN tranche_meters_2 AS t USING (msn) "
        "ORDER BY m.site_id, m.msn"
    )
    execute(
        "INSERT INTO tranche_meters SELECT tranche_id, position, msn, site_id, mpxn, dmc_id, "
        "cs_note, mdm_note FROM tranche_meters_2 ORDER BY tranche_id, position"
    )
    # A selection's history rows: now read from tranche_meters (the view meter_history).
    execute("DELETE FROM history WHERE eval_id IN (SELECT eval_id FROM tranches)")
    execute("DROP TABLE meters_2")
    execute("DROP TABLE tranche_meters_2")
    for statement in (*_MIGRATION_INDEXES, _METER_HISTORY):
        execute(statement)


def from_3(connection: sqlite3.Connection) -> None:
    """Schema 3 to 4, in the caller's transaction: two indexes of ``meters`` dropped."""
    for index in ("meters_by_device", "meters_flagged"):
        connection.execute(f"DROP INDEX {index}")
