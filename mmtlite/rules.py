"""The migration rules of docs/mmtlite.md ("Statuses and rules"), evaluated in set-based SQL.

The lists are the facts (each row keeps the file that said it); ``meters`` holds what the rules
make of them, one row per meter, and ``history`` every change of a meter's status or cause
they make (a selection's changes are recorded by ``tranche_meters``; the view ``meter_history``
shows both).

Statuses:

- ``0Z`` excluded: the meter has a STATUSCHG, NONCOMM or MANEXCL row; or its device model
  combination is not on the EPCL (reason ``EPCL``) or not tested in the DMCT (``DMCT``); or a
  meter at its site is excluded for a site-wide cause (a code marked ``site_wide`` Y, or EPCL,
  or DMCT: the meters of a site share one communications hub). The site-mates then name the
  cause and the meter it comes from (``via``).
- ``0`` held: not excluded, but the meter or a meter at its site has an open to-do item.
- ``0S`` eligible: every other meter of the master list.
- ``1`` selected for a tranche, ``1R`` rejected by the DCC, ``1a`` the CS note acknowledged
  (CSRESP OK), ``2`` the MDM notification acknowledged too (MDMRESP OK): the tranche statuses.
  A meter in a tranche keeps its tranche status whatever the lists say; a cause that would
  exclude or hold it is kept as its ``reason`` and reported as a conflict.

A meter with several causes shows the first in this order (the others are facts all the same):
STATUSCHG, NONCOMM, MANEXCL, EPCL, DMCT, a site-mate's exclusion, TODO, a site-mate's to-do;
then by code, then by the site-mate's MSN. A code missing from the EXCLCODE list is not
site-wide.

Cost: a few passes over ``meters`` (device lists, codes) and index lookups for the rest; the
master list itself is compared with ``meters`` only when a load changed it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from typing import NamedTuple

import msgspec

from mmtlite.db import last_id, now
from mmtlite.schema import METER_INDEXES

HELD = "0"
ELIGIBLE = "0S"
EXCLUDED = "0Z"
SELECTED = "1"
REJECTED = "1R"
NOTED = "1a"
NOTIFIED = "2"
STATUSES = (HELD, ELIGIBLE, EXCLUDED, SELECTED, REJECTED, NOTED, NOTIFIED)
TRANCHE_STATUSES = (SELECTED, REJECTED, NOTED, NOTIFIED)
MEANING = {
    HELD: "held (to-do)",
    ELIGIBLE: "eligible",
    EXCLUDED: "excluded",
    SELECTED: "selected",
    REJECTED: "rejected by the DCC",
    NOTED: "CS note acknowledged",
    NOTIFIED: "MDM notified",
}

# A tranche meter that left the master list: its conflict.
LEFT_THE_LIST = ("MMT", "REMOVED")

# Joins are written CROSS JOIN where the small table must lead: without statistics SQLite may
# otherwise scan a million meters to find thirty thousand.

# The order of causes (see the module's docstring): own exclusions 1-5, a site-mate's 6, own
# to-do 7, a site-mate's 8. Up to 6 the meter is excluded, after that held.
_OWN_FACTS = """
    SELECT msn, 1 AS p, 'STATUSCHG' AS reason, change_code AS code, file_id FROM list_statuschg
    UNION ALL SELECT msn, 2, 'NONCOMM', reason_code, file_id FROM list_noncomm
    UNION ALL SELECT msn, 3, 'MANEXCL', reason_code, file_id FROM list_manexcl
    UNION ALL SELECT msn, 7, 'TODO', todo_code, file_id FROM list_todo
"""
_LAST_EXCLUDING = 6
# The lists of ``_OWN_FACTS``, by rank.
_OWN_LISTS = {1: "list_statuschg", 2: "list_noncomm", 3: "list_manexcl", 7: "list_todo"}

# A meter's status from its first cause (``v``, its verdict; none: eligible).
_STATUS = f"iif(v.p IS NULL, '{ELIGIBLE}', iif(v.p <= {_LAST_EXCLUDING}, '{EXCLUDED}', '{HELD}'))"

_TRANCHE_STATUS = f"""CASE
    WHEN d.decision = 'REJECTED' THEN '{REJECTED}'
    WHEN cs.result = 'OK' AND md.result = 'OK' THEN '{NOTIFIED}'
    WHEN cs.result = 'OK' THEN '{NOTED}'
    ELSE '{SELECTED}' END"""


class Change(NamedTuple):
    """A change of status: ``old`` None for a meter new to the master list, ``new`` None for
    one that left it; both the same when only the cause changed."""

    old: str | None
    new: str | None

    def __str__(self) -> str:
        """``0S>0Z``, ``>0S``, ``0Z>``: how the JSON output names it."""
        return f"{self.old or ''}>{self.new or ''}"


class Evaluation(msgspec.Struct):
    """What one evaluation changed: ``changes`` counts meters by change of status."""

    eval_id: int
    changes: dict[Change, int]
    new_conflicts: int
    open_conflicts: int
    seconds: float

    @property
    def changed(self) -> int:
        return sum(self.changes.values())


def evaluate(
    connection: sqlite3.Connection,
    trigger: str,
    *,
    file_id: int | None = None,
    run_id: int | None = None,
    verdicts: bool = True,
    new_meters: bool = False,
    gone_meters: bool = False,
    moved_meters: bool = False,
    tranches: Collection[str] = (),
    touched: Touched | None = None,
) -> Evaluation:
    """Re-evaluate, inside the caller's transaction, and write the changes and their history.

    ``verdicts``: apply the rules (after a list changed). ``new_meters``, ``gone_meters``,
    ``moved_meters``: the master list gained meters, lost some, or changed the site or device
    of some. ``tranches``: re-derive the tranche statuses of these tranches (after a selection
    or a response). ``file_id`` is the file that triggered it. ``touched``: the rows of the
    master list or of a fact list that the file changed (None: any may have changed); only
    their meters and the meters of their sites (old and new) are judged again, as nothing
    else can have changed.
    """
    started = time.perf_counter()
    eval_id = start(connection, trigger, run_id, file_id)
    made: list[str] = []
    try:
        if new_meters and verdicts and not tranches and _no_meters(connection):
            changes, new_conflicts = _first(connection, made, eval_id, file_id), 0
        else:
            scope = EVERY_METER if touched is None else _scope(connection, made, touched)
            _temp(connection, made, "fresh", "msn TEXT PRIMARY KEY")
            _temp(
                connection,
                made,
                "gone",
                "msn TEXT PRIMARY KEY, site_id TEXT, status TEXT, kept INTEGER",
            )
            left = _reconcile(
                connection, eval_id, file_id, scope, new_meters, gone_meters, moved_meters
            )
            arrived: dict[Change, int] = {}
            if verdicts:
                _verdicts(connection, made, _local(connection, made, scope))
                if scope is _TOUCHED:
                    arrived = _arrive(connection, made, eval_id, file_id)
            changes, new_conflicts = _apply(
                connection, made, eval_id, file_id, scope, verdicts, tranches
            )
            changes.update(left)
            changes.update(arrived)
    finally:
        for name in made:
            connection.execute(f"DROP TABLE IF EXISTS temp.{name}")
    return Evaluation(
        eval_id, changes, new_conflicts, open_conflicts(connection), time.perf_counter() - started
    )


class Touched(NamedTuple):
    """The rows a file changed in a list keyed by MSN (``table``): those it added or changed
    carry its ``file_id``; ``removed`` the MSNs it removed (a superset will do)."""

    table: str
    file_id: int
    removed: Collection[str]


class _Scope(NamedTuple):
    """The meters an evaluation judges, as SQL: ``listed`` the master list's rows to compare
    with ``meters`` (a FROM clause, ``l``), ``judged`` the meters whose verdicts are worked out
    (a table: msn, site_id, dmc_id, reason), ``used`` the devices they use, ``devices``
    those of them on a bad device (``b`` and ``m``), ``mates`` the meters of a site with a
    site-wide cause (``s`` and ``m``), ``flagged`` the judged meters that had a cause."""

    listed: str
    used: str
    judged: str
    devices: str
    mates: str
    flagged: str


# Every meter: device lists and codes can change any verdict. Each step reads ``meters`` once,
# in its order (no index by device nor of the meters with a cause: see ``schema``).
EVERY_METER = _Scope(
    listed="list_mmt AS l",
    used="SELECT DISTINCT dmc_id FROM meters",
    judged="meters",
    devices="meters AS m CROSS JOIN bad_devices AS b ON b.dmc_id = m.dmc_id",
    mates="site_first AS s CROSS JOIN meters AS m ON m.site_id = s.site_id",
    flagged="meters AS f",
)
# The meters of the sites a file touched, copied to ``local`` once they are reconciled, with
# the meters new to the master list (not in ``meters`` yet: ``_arrive`` inserts them judged).
_TOUCHED = _Scope(
    listed="touched AS t CROSS JOIN list_mmt AS l USING (msn)",
    used="SELECT DISTINCT dmc_id FROM local",
    judged="local",
    devices="local AS m CROSS JOIN bad_devices AS b ON b.dmc_id = m.dmc_id",
    mates="local AS m CROSS JOIN site_first AS s ON s.site_id = m.site_id",
    flagged="local AS f",
)
# A first master list (``meters`` empty): judged from its rows, copied in site order (the
# order of ``meters``, ``verdict`` and ``site_first``) to ``listed``, so every step reads them in
# that order and each lookup walks its table forwards; its own facts are found by MSN.
_FIRST = _Scope(
    listed="listed AS l",
    used="SELECT DISTINCT dmc_id FROM listed",
    judged="list_mmt",
    devices="listed AS m CROSS JOIN bad_devices AS b ON b.dmc_id = m.dmc_id",
    mates="listed AS m CROSS JOIN site_first AS s ON s.site_id = m.site_id",
    flagged="",
)


def _no_meters(connection: sqlite3.Connection) -> bool:
    return connection.execute("SELECT 1 FROM meters LIMIT 1").fetchone() is None


def _temp(connection: sqlite3.Connection, made: list[str], name: str, columns: str) -> None:
    connection.execute(f"CREATE TEMP TABLE {name} ({columns}) WITHOUT ROWID")
    made.append(name)


def _scope(connection: sqlite3.Connection, made: list[str], touched: Touched) -> _Scope:
    """``touched`` (the MSNs of the rows the file changed) and ``sites``: their sites in
    ``meters`` (where they were) and in the master list (where they are now). A meter's
    verdict depends on its own facts, its device and its site-mates' facts: outside these
    sites nothing can change."""
    execute = connection.execute
    _temp(connection, made, "touched", "msn TEXT PRIMARY KEY")
    execute(
        f"INSERT INTO touched SELECT msn FROM {touched.table} WHERE file_id = ?",
        (touched.file_id,),
    )
    connection.executemany(
        "INSERT OR IGNORE INTO touched VALUES (?)", ((msn,) for msn in touched.removed)
    )
    _temp(connection, made, "sites", "site_id TEXT PRIMARY KEY")
    execute(
        "INSERT OR IGNORE INTO sites SELECT m.site_id FROM touched AS t "
        "CROSS JOIN meters AS m INDEXED BY meters_by_msn USING (msn)"
    )
    execute(f"INSERT OR IGNORE INTO sites SELECT l.site_id FROM {_TOUCHED.listed}")
    return _TOUCHED


def _local(connection: sqlite3.Connection, made: list[str], scope: _Scope) -> _Scope:
    """The meters of the touched sites, reconciled, and the new ones (``fresh``), as the
    scope's table ``local``: in site order, the order of ``site_first`` and ``verdict``, so
    the steps that read it walk them forwards (its few own facts find it by MSN through an
    index SQLite makes when there are any)."""
    if scope is not _TOUCHED:
        return scope
    _temp(
        connection,
        made,
        "local",
        "site_id TEXT, msn TEXT, dmc_id TEXT, reason TEXT, PRIMARY KEY (site_id, msn)",
    )
    connection.execute(
        "INSERT INTO local SELECT m.site_id, m.msn, m.dmc_id, m.reason FROM sites AS s "
        "CROSS JOIN meters AS m USING (site_id)"
    )
    connection.execute(
        "INSERT INTO local SELECT l.site_id, l.msn, l.dmc_id, NULL FROM fresh "
        "CROSS JOIN list_mmt AS l USING (msn)"
    )
    return scope


def _reconcile(
    connection: sqlite3.Connection,
    eval_id: int,
    file_id: int | None,
    scope: _Scope,
    new_meters: bool,
    gone_meters: bool,
    moved_meters: bool,
) -> dict[Change, int]:
    """Bring ``meters`` in line with the master list (the part of it in ``scope``): meters
    gone, back, moved and new. Returns the meters that left it (not in a tranche) by their
    last status."""
    execute = connection.execute
    changes: dict[Change, int] = {}
    if gone_meters:
        # Read once, with what the steps below need: each then reads ``gone`` alone.
        among = "meters" if scope is EVERY_METER else "touched CROSS JOIN meters AS m USING (msn)"
        execute(
            "INSERT INTO gone SELECT msn, site_id, status, msn IN (SELECT msn FROM tranche_meters) "
            f"FROM {among} WHERE in_list AND msn NOT IN (SELECT msn FROM list_mmt)"
        )
        execute(
            "INSERT INTO history (msn, eval_id, old_status, status, reason, code, file_id) "
            "SELECT msn, ?, status, NULL, ?, ?, ? FROM gone WHERE NOT kept",
            (eval_id, *LEFT_THE_LIST, file_id),
        )
        for old, count in execute("SELECT status, count(*) FROM gone WHERE NOT kept GROUP BY 1"):
            changes[Change(old, None)] = count
        # By key, in the table's order: the table and most of its indexes are walked forwards
        # (by MSN, a tenth of a million meters took twice as long).
        execute(
            "DELETE FROM meters INDEXED BY sqlite_autoindex_meters_1 WHERE (site_id, msn) IN "
            "(SELECT site_id, msn FROM gone WHERE NOT kept)"
        )
        # The ones in a tranche are kept, and their leaving becomes a conflict.
        execute(
            "UPDATE meters SET in_list = 0 WHERE (site_id, msn) IN "
            "(SELECT site_id, msn FROM gone WHERE kept)"
        )
    if new_meters:  # a tranche meter back in the list, maybe at another site
        execute(
            "UPDATE meters SET in_list = 1, site_id = l.site_id, dmc_id = l.dmc_id, "
            f"mpxn = l.mpxn FROM {scope.listed} WHERE meters.reason IS NOT NULL "
            "AND meters.in_list = 0 AND l.msn = meters.msn"
        )
    if moved_meters:
        execute(
            "UPDATE meters SET site_id = l.site_id, dmc_id = l.dmc_id, mpxn = l.mpxn "
            f"FROM {scope.listed} WHERE l.msn = meters.msn AND (meters.site_id <> l.site_id "
            "OR meters.dmc_id <> l.dmc_id OR meters.mpxn <> l.mpxn)"
        )
    if new_meters:
        execute(
            f"INSERT INTO fresh SELECT l.msn FROM {scope.listed} "
            "WHERE l.msn NOT IN (SELECT msn FROM meters)"
        )
    if new_meters and scope is EVERY_METER:
        # Judged as every meter is, from ``meters``: eligible until the rules below say
        # otherwise; the history records one change each. In site order, the order of the
        # table. (A load's new meters are judged first and inserted once: ``_arrive``.)
        execute(
            "INSERT INTO meters (site_id, msn, dmc_id, mpxn, status) SELECT l.site_id, l.msn, "
            f"l.dmc_id, l.mpxn, '{ELIGIBLE}' FROM fresh JOIN list_mmt AS l USING (msn) "
            "ORDER BY l.site_id, l.msn"
        )
    return changes


def _first(
    connection: sqlite3.Connection, made: list[str], eval_id: int, file_id: int | None
) -> dict[Change, int]:
    """A first master list (``meters`` empty, so no tranche either): every meter is judged
    from the lists and inserted once, with its status, in site order; then indexed (a sort
    is several times faster than a million random inserts into each index). About half the
    time of inserting every meter as eligible and then updating those the rules judge."""
    execute = connection.execute
    for name in METER_INDEXES:
        execute(f"DROP INDEX {name}")
    made.append("listed")
    execute(
        "CREATE TEMP TABLE listed AS SELECT site_id, msn, dmc_id, mpxn FROM list_mmt "
        "ORDER BY site_id, msn"
    )
    _verdicts(connection, made, _FIRST)
    # In the order of ``listed``: appended to ``meters``, walking ``verdict`` forwards.
    _insert_judged(connection, "listed AS l", eval_id, file_id)
    for statement in METER_INDEXES.values():
        execute(statement)
    return {
        Change(None, status): count
        for status, count in execute("SELECT status, count(*) FROM meters GROUP BY status")
    }


def _arrive(
    connection: sqlite3.Connection, made: list[str], eval_id: int, file_id: int | None
) -> dict[Change, int]:
    """The meters new to the master list (``fresh``), judged by ``_verdicts``: copied in site
    order to ``arrived`` (as a first list is to ``listed``) and inserted once with their
    statuses and history, not inserted eligible and then updated. ``fresh`` is emptied:
    nothing is left for ``_apply`` to do for them."""
    execute = connection.execute
    made.append("arrived")
    execute(
        "CREATE TEMP TABLE arrived AS SELECT l.site_id, l.msn, l.dmc_id, l.mpxn FROM fresh "
        "CROSS JOIN list_mmt AS l USING (msn) ORDER BY l.site_id, l.msn"
    )
    _insert_judged(connection, "arrived AS l", eval_id, file_id)
    changes = {
        Change(None, status): count
        for status, count in execute(
            f"SELECT {_STATUS}, count(*) FROM arrived AS l LEFT JOIN verdict AS v "
            "ON v.site_id = l.site_id AND v.msn = l.msn GROUP BY 1"
        )
    }
    execute("DELETE FROM fresh")
    return changes


def _insert_judged(
    connection: sqlite3.Connection,
    listed: str,
    eval_id: int,
    file_id: int | None,
) -> None:
    """Insert the master list's rows ``listed`` (``l``) into ``meters`` with the status and
    cause ``verdict`` gives them (they come in site order, the order of both), and their first
    history rows."""
    execute = connection.execute
    verdict = "LEFT JOIN verdict AS v ON v.site_id = l.site_id AND v.msn = l.msn"
    execute(
        "INSERT INTO meters (site_id, msn, dmc_id, mpxn, status, reason, code, via, file_id) "
        f"SELECT l.site_id, l.msn, l.dmc_id, l.mpxn, {_STATUS}, v.reason, v.code, v.via, "
        f"v.file_id FROM {listed} {verdict}"
    )
    # Sorted into the history's order (MSN): its rows are appended.
    execute(
        "INSERT INTO history (msn, eval_id, status, reason, code, via, file_id) "
        f"SELECT l.msn, ?, {_STATUS}, v.reason, v.code, v.via, coalesce(v.file_id, ?) "
        f"FROM {listed} {verdict} ORDER BY l.msn",
        (eval_id, file_id),
    )


def _verdicts(connection: sqlite3.Connection, made: list[str], scope: _Scope) -> None:
    """``verdict``: the first cause of every meter of ``scope`` that is excluded or held."""
    execute = connection.execute
    last_file = "(SELECT max(file_id) FROM ledger WHERE category = '{}')"
    # The device model combinations in use that are missing from the EPCL or the DMCT.
    made.append("bad_devices")
    execute(
        f"""CREATE TEMP TABLE bad_devices AS
        WITH used (dmc_id) AS ({scope.used})
        SELECT dmc_id, dmc_id IN (SELECT dmc_id FROM list_epcl) AS on_epcl FROM used
        WHERE dmc_id IS NOT NULL AND (
            dmc_id NOT IN (SELECT dmc_id FROM list_epcl)
            OR dmc_id NOT IN (SELECT dmc_id FROM list_dmct))"""
    )
    made.append("facts")
    # The few tranche meters that left the master list have no facts: asked of their own
    # index, so the joins below read the index entries of meters alone (site and MSN).
    left_the_list = "SELECT msn FROM meters INDEXED BY meters_left WHERE in_list = 0"
    execute(
        f"""CREATE TEMP TABLE facts AS
        SELECT o.msn, m.site_id, o.p, o.reason, o.code, o.file_id,
            o.p = 7 OR coalesce(c.site_wide = 'Y', 0) AS site_wide
        FROM ({_OWN_FACTS}) AS o
        CROSS JOIN {scope.judged} AS m ON m.msn = o.msn
        LEFT JOIN list_exclcode AS c ON c.code = o.code AND o.p < 7
        WHERE o.msn NOT IN ({left_the_list})
        UNION ALL
        SELECT m.msn, m.site_id, iif(b.on_epcl, 5, 4), iif(b.on_epcl, 'DMCT', 'EPCL'), b.dmc_id,
            iif(b.on_epcl, {last_file.format("DMCT")}, {last_file.format("EPCL")}), 1
        FROM {scope.devices}
        WHERE m.msn NOT IN ({left_the_list})"""
    )
    _temp(
        connection,
        made,
        "site_first",
        "site_id TEXT, excluding INTEGER, p INTEGER, reason TEXT, code TEXT, via TEXT, "
        "file_id INTEGER, PRIMARY KEY (site_id, excluding)",
    )
    execute(
        # The site's first cause: by rank, code, MSN (a shorter code first: "NC0" before
        # "NC01"). Each fact replaces the site's when it comes first: the facts come nearly in
        # site order, so this walks site_first forwards (at a first million meters, 0.56 s; a
        # GROUP BY sorting them took 1.44 s).
        f"""INSERT INTO site_first
        SELECT site_id, p <= {_LAST_EXCLUDING}, p, reason, code, msn, file_id
        FROM facts WHERE site_wide AND true
        ON CONFLICT (site_id, excluding) DO UPDATE SET p = excluded.p,
            reason = excluded.reason, code = excluded.code, via = excluded.via,
            file_id = excluded.file_id
        WHERE (excluded.p, excluded.code, excluded.via)
            < (site_first.p, site_first.code, site_first.via)"""
    )
    made.append("verdict")
    # Keyed like ``meters`` (a meter has one site), so reading it walks ``meters`` in order.
    execute(
        "CREATE TEMP TABLE verdict (site_id TEXT, msn TEXT, p INTEGER, reason TEXT, code TEXT, "
        "via TEXT, file_id INTEGER, PRIMARY KEY (site_id, msn)) WITHOUT ROWID"
    )
    # A meter has at most one fact of each rank and one site-mate cause of each kind, so
    # inserting rank by rank, the first row a meter gets is its first cause: no sorting.
    own = (
        "INSERT OR IGNORE INTO verdict "
        "SELECT site_id, msn, p, reason, code, NULL, file_id FROM facts WHERE p = ?"
    )
    mates = f"""INSERT OR IGNORE INTO verdict
        SELECT m.site_id, m.msn, ?, s.reason, s.code, s.via, s.file_id
        FROM {scope.mates} AND s.excluding = ? AND m.msn <> s.via"""
    # Each rank reads all of ``facts``: only the ranks it may hold, from its sources (most
    # fact lists are empty; at a first million meters each empty rank cost 0.04-0.06 s).
    ranks = {
        rank
        for rank, table in _OWN_LISTS.items()
        if execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
    }
    ranks |= {5 if on_epcl else 4 for (on_epcl,) in execute("SELECT on_epcl FROM bad_devices")}
    for rank in sorted(ranks & set(range(1, _LAST_EXCLUDING))):
        execute(own, (rank,))
    execute(mates, (_LAST_EXCLUDING, True))
    if 7 in ranks:
        execute(own, (7,))
    execute(mates, (8, False))


def _apply(
    connection: sqlite3.Connection,
    made: list[str],
    eval_id: int,
    file_id: int | None,
    scope: _Scope,
    verdicts: bool,
    tranches: Collection[str],
) -> tuple[dict[Change, int], int]:
    """Work out the new status and cause of every meter that may have changed; write the
    changes and their history."""
    execute = connection.execute
    made.append("changed")
    execute(
        "CREATE TEMP TABLE changed (site_id TEXT, msn TEXT, tranche_id TEXT, old_status TEXT, "
        "old_reason TEXT, status TEXT, reason TEXT, code TEXT, via TEXT, file_id INTEGER, "
        "new INTEGER, PRIMARY KEY (site_id, msn)) WITHOUT ROWID"
    )
    marks = ", ".join("?" * len(tranches))
    # The meters that may have changed, by site and MSN (the key of ``meters``): those with a
    # verdict now or a cause before, the tranche meters that left the list, and the meters of
    # the tranches named.
    by_msn = "SELECT m.site_id, m.msn FROM ({}) AS x CROSS JOIN meters AS m USING (msn)"
    sources = [by_msn.format("SELECT msn FROM gone")]
    if verdicts:
        sources += [
            "SELECT site_id, msn FROM verdict",
            # NOT EXISTS, not NOT IN: a row value NOT IN reads all of verdict for every miss.
            f"SELECT site_id, msn FROM {scope.flagged} WHERE reason IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM verdict AS v WHERE v.site_id = f.site_id AND v.msn = f.msn)",
        ]
    if tranches:
        sources.append(
            by_msn.format(f"SELECT msn FROM tranche_meters WHERE tranche_id IN ({marks})")
        )
    cause = "v" if verdicts else "m"
    listed = _STATUS if verdicts else "m.status"
    in_tranche = (
        f"iif(t.tranche_id IN ({marks}), {_TRANCHE_STATUS}, m.status)" if tranches else "m.status"
    )
    responses = (
        """LEFT JOIN list_dccresp AS d ON d.msn = t.msn AND d.tranche_id = t.tranche_id
        LEFT JOIN list_csresp AS cs ON cs.msn = t.msn AND cs.tranche_id = t.tranche_id
        LEFT JOIN list_mdmresp AS md ON md.msn = t.msn AND md.tranche_id = t.tranche_id"""
        if tranches
        else ""
    )
    verdict = (
        "LEFT JOIN verdict AS v ON v.site_id = c.site_id AND v.msn = c.msn" if verdicts else ""
    )
    gone_reason, gone_code = LEFT_THE_LIST
    for source in sources:
        # The tranches' marks: in the status (when named) and in the tranche source.
        parameters = tuple(tranches) * (("?" in in_tranche) + ("?" in source))
        execute(
            f"""INSERT OR IGNORE INTO changed
            SELECT site_id, msn, tranche_id, old_status, old_reason, status, reason, code, via,
                file_id, msn IN (SELECT msn FROM fresh)
            FROM (
                SELECT c.msn, c.site_id, t.tranche_id, m.status AS old_status,
                    m.reason AS old_reason,
                    m.code AS old_code, m.via AS old_via,
                    iif(t.msn IS NULL, {listed}, {in_tranche}) AS status,
                    iif(m.in_list, {cause}.reason, '{gone_reason}') AS reason,
                    iif(m.in_list, {cause}.code, '{gone_code}') AS code,
                    iif(m.in_list, {cause}.via, NULL) AS via,
                    iif(m.in_list, {cause}.file_id, NULL) AS file_id
                FROM ({source}) AS c
                CROSS JOIN meters AS m ON m.site_id = c.site_id AND m.msn = c.msn
                {verdict}
                LEFT JOIN tranche_meters AS t ON t.msn = c.msn
                {responses}
            )
            WHERE status IS NOT old_status OR reason IS NOT old_reason OR code IS NOT old_code
                OR via IS NOT old_via""",
            parameters,
        )
    # In the order of the history's key (MSN, evaluation): a first million meters' rows are
    # appended at the B-tree's edge instead of scattered in site order (measured: 5.0 s
    # instead of 11.7 on a busy machine).
    execute(
        "INSERT INTO history (msn, eval_id, old_status, status, reason, code, via, file_id, "
        "tranche_id) SELECT msn, ?, iif(new, NULL, old_status), status, reason, code, via, "
        "coalesce(file_id, ?), tranche_id FROM changed ORDER BY msn",
        (eval_id, file_id),
    )
    # The new meters the rules left eligible (the others have their row already).
    execute(
        f"INSERT OR IGNORE INTO history (msn, eval_id, status, file_id) "
        f"SELECT msn, ?, '{ELIGIBLE}', ? FROM fresh",
        (eval_id, file_id),
    )
    # Led by the changed meters, in site order, found by the table's own key (the name SQLite
    # gives it): the rows in their order. Left to itself SQLite finds them through the MSN
    # index, which also works but costs 2.4 s instead of 0.6 at a first million meters.
    execute(
        "UPDATE meters INDEXED BY sqlite_autoindex_meters_1 SET (status, reason, code, via, "
        "file_id) = (c.status, c.reason, c.code, c.via, c.file_id) FROM changed AS c "
        "WHERE meters.site_id = c.site_id AND meters.msn = c.msn"
    )
    changes: dict[Change, int] = {}
    for old, new, count in execute(
        "SELECT iif(new, NULL, old_status), status, count(*) FROM changed GROUP BY 1, 2"
    ):
        changes[Change(old, new)] = count
    new_changed = sum(count for change, count in changes.items() if change.old is None)
    unchanged_fresh = execute("SELECT count(*) FROM fresh").fetchone()[0] - new_changed
    if unchanged_fresh:
        fresh = Change(None, ELIGIBLE)
        changes[fresh] = changes.get(fresh, 0) + unchanged_fresh
    new_conflicts = execute(
        "SELECT count(*) FROM changed WHERE tranche_id IS NOT NULL AND reason IS NOT NULL "
        "AND old_reason IS NULL"
    ).fetchone()[0]
    return changes, int(new_conflicts)


def open_conflicts(connection: sqlite3.Connection) -> int:
    """Meters in a tranche that the rules would exclude or hold now."""
    marks = ", ".join("?" * len(TRANCHE_STATUSES))
    return int(
        connection.execute(
            f"SELECT count(*) FROM meters WHERE reason IS NOT NULL AND status IN ({marks})",
            TRANCHE_STATUSES,
        ).fetchone()[0]
    )


def start(
    connection: sqlite3.Connection,
    trigger: str,
    run_id: int | None = None,
    file_id: int | None = None,
) -> int:
    """A new evaluation: by ``evaluate``, or a change of statuses made outside it (a
    selection)."""
    return last_id(
        connection.execute(
            "INSERT INTO evaluations (at, trigger, file_id, run_id) VALUES (?, ?, ?, ?)",
            (now(), trigger, file_id, run_id),
        )
    )
