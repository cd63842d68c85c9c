"""Tranches: selecting eligible meters, the files to the DCC, CS and MDM, and their answers.

Selection (``select``), the documented order: sites in ascending ``site_id`` (text order); a
site's eligible (``0S``) meters are taken together, in MSN order, if they all fit in the room
left; a site that does not fit is passed over (it waits for the next tranche) and the next one
is tried, until the tranche is full or no eligible site is left. A site is never split: its
meters that are eligible go together (a meter excluded for a code that is not site-wide stays
behind without holding its mates back). A meter is in at most one tranche, ever.

Files, each a new file with its own sequence (``outbound``):

- ``select`` writes ``DCCCAND`` (``msn|mpxn|dmc_id|tranche_id``, the meters as selected);
  ``export dcc`` writes it again.
- ``export cs`` writes ``CSNOTE`` (``msn|tranche_id|note_code``) for the meters the DCC
  accepted that no CS note named yet.
- ``export mdm`` writes ``MDMNOTIF`` (``msn|tranche_id|migration_date``) for the meters whose
  CS note was acknowledged (``1a``) that no notification named yet.
- Neither sends a meter in conflict (the lists now exclude or hold it): it waits, and the
  export says how many.

Answers are checked when they load (``responses``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Literal, TypeVar

import msgspec

from mmtlite import activity, outbound, rules
from mmtlite.categories import CODE, DATE, IDENTIFIER
from mmtlite.db import Damaged, PageCheck, explaining, transaction
from mmtlite.errors import BadArgument, MmtliteError
from mmtlite.fileformat import show
from mmtlite.lock import WriterLock
from mmtlite.migrations import connect
from mmtlite.outbound import Written
from mmtlite.paths import Place

Target = Literal["dcc", "cs", "mdm"]
_EXPORTED = {"dcc": "DCCCAND", "cs": "CSNOTE", "mdm": "MDMNOTIF"}
_NOTE_COLUMN = {"cs": "cs_note", "mdm": "mdm_note"}
# A meter the lists now exclude or hold waits until someone decides (it is a conflict).
_IN_CONFLICT = "in conflict: the lists now exclude or hold them (see mmtlite report)"


class TrancheError(MmtliteError):
    """A selection or an export that cannot be made (nothing is written)."""


class Selection(msgspec.Struct):
    tranche_id: str
    requested: int
    meters: int
    sites: int
    passed_over: int  # eligible sites that did not fit in the room left
    eligible_left: int  # eligible meters not selected
    file: Written


class Export(msgspec.Struct):
    tranche_id: str
    target: str
    file: Written
    left_out: dict[str, int]  # meters of the tranche not in this file, by why


def select_tranche(
    place: Place, tranche_id: str, size: int, when: datetime | None = None
) -> Selection:
    """``mmtlite select``: select a tranche and write its DCCCAND file, as the environment's
    one writer (raises ``lock.Busy`` when another holds it, ``TrancheError`` when it cannot)."""
    return _as_writer(
        place,
        f"select --tranche {tranche_id}",
        lambda connection, run_id: select(connection, place, tranche_id, size, run_id, when),
    )


def export_tranche(
    place: Place,
    target: Target,
    tranche_id: str,
    *,
    note_code: str = "S1MIG",
    migration_date: str | None = None,
    when: datetime | None = None,
) -> Export:
    """``mmtlite export``: write a tranche's file for ``target``, as the one writer (raises
    ``BadArgument`` before taking the lock when the arguments can never work)."""
    check_export(target, note_code, migration_date)
    return _as_writer(
        place,
        f"export {target} --tranche {tranche_id}",
        lambda connection, run_id: export(
            connection,
            place,
            target,
            tranche_id,
            run_id,
            note_code=note_code,
            migration_date=migration_date,
            when=when,
        ),
    )


Made = TypeVar("Made", Selection, Export)

# What a selection or an export reads and writes: quick-checked beside either (``db``).
TRANCHE_TABLES = (
    "meters",
    "tranches",
    "tranche_meters",
    "evaluations",
    "outbound",
    "list_dccresp",
    "list_csresp",
    "list_mdmresp",
    "runs",
    "loads",
)
# What they write before their transaction (a dead run marked aborted) and read to publish a
# file a crash left hidden: checked on opening (milliseconds).
_RUN_TABLES = ("runs", "loads", "outbound")


def _as_writer(place: Place, command: str, make: Callable[[sqlite3.Connection, int], Made]) -> Made:
    """Run ``make`` in one transaction under the writer lock, logged as a run; publish its file
    after the commit.

    The quick check of ``TRANCHE_TABLES`` runs beside the transaction (``db.PageCheck``) and
    is passed before it commits, the run's entry included: a damaged database is left as it
    was (a tranche of 100,000 at a million meters: 0.3 s of checking no longer in its time).
    So a selection killed before its commit leaves no trace, its run neither."""
    with WriterLock(place.lock, command), explaining(place.database):
        connection = connect(place.database, check=_RUN_TABLES)
        check = PageCheck(place.database, TRANCHE_TABLES)
        try:
            activity.mark_aborted(connection)
            outbound.finish_pending(connection, place)
            try:
                with transaction(connection):
                    run_id = activity.run_entry(connection, command)
                    made = make(connection, run_id)
                    check.passed()
            except TrancheError:
                check.passed()  # the refusal is logged only if the tables it read are sound
                outbound.finish_pending(connection, place)
                activity.end_run(connection, activity.start_run(connection, command), "refused")
                raise
            except BaseException:
                outbound.finish_pending(connection, place)  # its file was never recorded
                check.wait()
                if isinstance(check.failure, Damaged):
                    raise check.failure from None
                raise
            outbound.publish(made.file)
            activity.end_run(connection, run_id, "done")
            return made
        finally:
            check.wait()
            connection.close()


def select(
    connection: sqlite3.Connection,
    place: Place,
    tranche_id: str,
    size: int,
    run_id: int,
    when: datetime | None = None,
) -> Selection:
    """Select tranche ``tranche_id`` of at most ``size`` meters and prepare its DCCCAND file
    (inside the caller's transaction; ``outbound.publish`` it after the commit)."""
    _check_new(connection, tranche_id, size)
    # The walk reads the status index (its entries are status, site_id, msn: the eligible
    # meters in site order), a count per site, and stops when the tranche is full.
    walk = connection.execute(
        "SELECT site_id, count(*) FROM meters INDEXED BY meters_by_status WHERE status = ? "
        "GROUP BY site_id ORDER BY site_id",
        (rules.ELIGIBLE,),
    )
    sites = meters = 0
    first = last = None
    passed_over: list[str] = []
    for site, count in walk:
        if meters + count > size:
            passed_over.append(site)
            continue
        if first is None:
            first = site
        last = site
        sites += 1
        meters += count
        if meters == size:
            break
    walk.close()
    if last is None:
        raise TrancheError(f"no eligible site fits in a tranche of {size:,} meters")
    eval_id = rules.start(connection, f"select --tranche {tranche_id}", run_id)
    # The tranche is the eligible meters from the first site taken to the last, less the sites
    # passed over: a run of neighbouring rows of ``meters`` (stored in site order), so the
    # statements below read that run of the table itself ("+status" keeps them off the status
    # index) and rewrite few pages. The chosen meters were eligible (no cause): each becomes
    # selected, nothing else; ``tranche_meters`` records the change (see ``meter_history``).
    connection.execute("CREATE TEMP TABLE passed_over (site_id TEXT PRIMARY KEY) WITHOUT ROWID")
    # The chosen meters in site order, numbered by their row id: their positions (a window
    # function's row_number() cost 0.09 s more for a tranche of 100,000).
    connection.execute(
        "CREATE TEMP TABLE chosen (position INTEGER PRIMARY KEY, msn TEXT, site_id TEXT, "
        "mpxn TEXT, dmc_id TEXT)"
    )
    try:
        connection.executemany(
            "INSERT INTO passed_over VALUES (?)", ((site,) for site in passed_over)
        )
        chosen = (
            f"site_id BETWEEN ? AND ? AND +status = '{rules.ELIGIBLE}' "
            "AND site_id NOT IN (SELECT site_id FROM passed_over)"
        )
        connection.execute(
            "INSERT INTO chosen (msn, site_id, mpxn, dmc_id) SELECT msn, site_id, mpxn, dmc_id "
            f"FROM meters WHERE {chosen} ORDER BY site_id, msn",
            (first, last),
        )
        connection.execute(
            "INSERT INTO tranche_meters (tranche_id, position, msn, site_id, mpxn, dmc_id) "
            "SELECT ?, position, msn, site_id, mpxn, dmc_id FROM chosen",
            (tranche_id,),
        )
        connection.execute(
            f"UPDATE meters SET status = '{rules.SELECTED}' WHERE {chosen}", (first, last)
        )
    finally:
        connection.execute("DROP TABLE temp.passed_over")
        connection.execute("DROP TABLE temp.chosen")
    connection.execute(
        "INSERT INTO tranches (tranche_id, requested, meters, sites, eval_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (tranche_id, size, meters, sites, eval_id),
    )
    # Read back rather than RETURNING, which buffers every row (twice as slow).
    rows = _candidates(connection, tranche_id)
    written = outbound.prepare(connection, place, "DCCCAND", tranche_id, rows, run_id, when)
    left = connection.execute(
        "SELECT count(*) FROM meters INDEXED BY meters_by_status WHERE status = ?",
        (rules.ELIGIBLE,),
    ).fetchone()[0]
    return Selection(tranche_id, size, meters, sites, len(passed_over), int(left), written)


def _check_new(connection: sqlite3.Connection, tranche_id: str, size: int) -> None:
    if re.fullmatch(IDENTIFIER.pattern, tranche_id) is None:
        raise TrancheError(f"tranche id {show(tranche_id)}: expected {IDENTIFIER.expected}")
    if size < 1:
        raise TrancheError(f"size {size}: at least 1 meter")
    row = connection.execute(
        "SELECT t.meters, e.at FROM tranches AS t JOIN evaluations AS e USING (eval_id) "
        "WHERE tranche_id = ?",
        (tranche_id,),
    ).fetchone()
    if row is not None:
        raise TrancheError(
            f"tranche {tranche_id} exists already ({row[0]:,} meters, selected {row[1]}): "
            "choose a new tranche id"
        )


def _candidates(connection: sqlite3.Connection, tranche_id: str) -> list[tuple[str, ...]]:
    """The DCCCAND rows of a tranche, in the order it was selected."""
    rows: list[tuple[str, ...]] = connection.execute(
        "SELECT msn, mpxn, dmc_id, tranche_id FROM tranche_meters WHERE tranche_id = ? "
        "ORDER BY position",
        (tranche_id,),
    ).fetchall()
    return rows


def export(
    connection: sqlite3.Connection,
    place: Place,
    target: Target,
    tranche_id: str,
    run_id: int,
    *,
    note_code: str = "S1MIG",
    migration_date: str | None = None,
    when: datetime | None = None,
) -> Export:
    """Prepare the ``target`` file of a tranche (inside the caller's transaction; the arguments
    are ``check_export``'s, checked by ``export_tranche`` before the lock)."""
    known = connection.execute(
        "SELECT 1 FROM tranches WHERE tranche_id = ?", (tranche_id,)
    ).fetchone()
    if known is None:
        raise TrancheError(f"tranche {show(tranche_id)} is unknown (see mmtlite report)")
    why = _why_left_out(connection, target, tranche_id)
    if target == "dcc":
        rows: list[tuple[str, ...]] = _candidates(connection, tranche_id)
    elif target == "cs":
        rows = [
            (msn, tranche_id, note_code)
            for (msn,) in connection.execute(
                "SELECT t.msn FROM tranche_meters AS t JOIN list_dccresp AS d "
                "ON d.msn = t.msn AND d.tranche_id = t.tranche_id JOIN meters AS m USING (msn) "
                "WHERE t.tranche_id = ? AND d.decision = 'ACCEPTED' AND t.cs_note IS NULL "
                "AND m.reason IS NULL ORDER BY t.position",
                (tranche_id,),
            )
        ]
    else:
        assert migration_date is not None  # check_export: mdm needs it
        rows = [
            (msn, tranche_id, migration_date)
            for (msn,) in connection.execute(
                "SELECT t.msn FROM tranche_meters AS t JOIN meters AS m USING (msn) "
                "WHERE t.tranche_id = ? AND m.status IN (?, ?) AND t.mdm_note IS NULL "
                "AND m.reason IS NULL ORDER BY t.position",
                (tranche_id, rules.NOTED, rules.NOTIFIED),
            )
        ]
    if not rows:
        reasons = ", ".join(f"{count:,} {reason}" for reason, count in why.items() if count)
        raise TrancheError(
            f"nothing to send to {target.upper()} for tranche {tranche_id}"
            + (f": {reasons}" if reasons else "")
        )
    written = outbound.prepare(connection, place, _EXPORTED[target], tranche_id, rows, run_id, when)
    if target in _NOTE_COLUMN:
        connection.executemany(
            f"UPDATE tranche_meters SET {_NOTE_COLUMN[target]} = ? WHERE msn = ?",
            ((written.outbound_id, row[0]) for row in rows),
        )
    return Export(tranche_id, target, written, why)


def check_export(target: Target, note_code: str, migration_date: str | None) -> None:
    """An export's arguments, checked before anything is read or locked."""
    if target not in _EXPORTED:
        raise BadArgument(f"unknown target {show(target)}: dcc, cs or mdm")
    if re.fullmatch(CODE.pattern, note_code) is None:
        raise BadArgument(f"note code {show(note_code)}: expected {CODE.expected}", "--note-code")
    if migration_date is not None and re.fullmatch(DATE.pattern, migration_date) is None:
        raise BadArgument(
            f"migration date {show(migration_date)}: expected {DATE.expected}", "--migration-date"
        )
    if target == "mdm" and migration_date is None:
        raise BadArgument(
            "an MDM notification needs its migration date (YYYYMMDD)", "--migration-date"
        )


def _why_left_out(
    connection: sqlite3.Connection, target: Target, tranche_id: str
) -> dict[str, int]:
    """The tranche's meters an export of ``target`` leaves out, by why."""
    if target == "dcc":
        return {}
    if target == "cs":
        query = """SELECT
            sum(d.decision IS NULL), sum(d.decision = 'REJECTED'),
            sum(d.decision = 'ACCEPTED' AND t.cs_note IS NOT NULL),
            sum(d.decision = 'ACCEPTED' AND t.cs_note IS NULL AND m.reason IS NOT NULL)
            FROM tranche_meters AS t JOIN meters AS m USING (msn) LEFT JOIN list_dccresp AS d
            ON d.msn = t.msn AND d.tranche_id = t.tranche_id WHERE t.tranche_id = ?"""
        names: tuple[str, ...] = (
            "awaiting the DCC's decision",
            "rejected by the DCC",
            "already in a CS note",
            _IN_CONFLICT,
        )
    else:
        query = f"""SELECT
            sum(m.status = '{rules.SELECTED}' AND t.cs_note IS NULL),
            sum(m.status = '{rules.SELECTED}' AND t.cs_note IS NOT NULL AND cs.msn IS NULL),
            sum(m.status = '{rules.SELECTED}' AND cs.result = 'FAIL'),
            sum(m.status = '{rules.REJECTED}'),
            sum(m.status IN ('{rules.NOTED}', '{rules.NOTIFIED}') AND t.mdm_note IS NOT NULL),
            sum(m.status = '{rules.NOTED}' AND t.mdm_note IS NULL AND m.reason IS NOT NULL)
            FROM tranche_meters AS t JOIN meters AS m USING (msn)
            LEFT JOIN list_csresp AS cs ON cs.msn = t.msn AND cs.tranche_id = t.tranche_id
            WHERE t.tranche_id = ?"""
        names = (
            "without a CS note yet",
            "awaiting the CS acknowledgement",
            "failed at CS",
            "rejected by the DCC",
            "already notified",
            _IN_CONFLICT,
        )
    counts = connection.execute(query, (tranche_id,)).fetchone()
    return {name: int(count or 0) for name, count in zip(names, counts, strict=True)}
