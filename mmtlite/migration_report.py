"""``mmtlite report``: where the migration stands, for managers (the original's Power BI pages).

- status counts (as ``status``);
- exclusions and holds by reason: each excluded or held meter counted once, under its first
  cause (``rules``), split into the meters with the cause themselves (``direct``) and those
  excluded or held because of a site-mate (``via_site``), with the site-propagated share;
- conflicts: meters in a tranche that the lists would now exclude or hold, by reason;
- tranche progress: per tranche, its meters by status and the answers of the DCC, CS and MDM,
  and the files written for it.

``rows`` flattens it for CSV: one line per figure (section, group, measure, value), which a
spreadsheet pivots as it likes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import msgspec

from mmtlite.db import now
from mmtlite.reports import Status, status
from mmtlite.rules import EXCLUDED, HELD, TRANCHE_STATUSES


class ReasonCount(msgspec.Struct):
    status: str  # 0Z excluded or 0 held
    reason: str  # STATUSCHG, NONCOMM, MANEXCL, EPCL, DMCT or TODO
    code: str
    site_wide: bool  # whether the cause reaches the site-mates
    meters: int
    direct: int
    via_site: int
    site_share: float  # via_site / meters
    description: str = ""  # what the code means (EXCLCODE, the to-do's own, or the device's)


class Conflict(msgspec.Struct):
    tranche_id: str
    reason: str
    code: str
    meters: int
    description: str = ""


class TrancheProgress(msgspec.Struct):
    tranche_id: str
    selected_at: str
    requested: int
    meters: int
    sites: int
    by_status: dict[str, int]
    dcc: dict[str, int]  # accepted, rejected, awaiting
    cs: dict[str, int]  # noted, ok, fail, awaiting (noted without an answer)
    mdm: dict[str, int]  # notified, ok, fail, awaiting
    conflicts: int
    files: list[str]


class Report(msgspec.Struct):
    env: str
    generated_at: str
    meters: int
    by_status: dict[str, int]
    exclusions: list[ReasonCount]
    conflicts: list[Conflict]
    tranches: list[TrancheProgress]


def report(connection: sqlite3.Connection, env: str) -> Report:
    counts: Status = status(connection, env)
    return Report(
        env,
        now(),
        counts.meters,
        counts.by_status,
        _exclusions(connection),
        _conflicts(connection),
        _tranches(connection),
    )


# A device cause's code is its dmc_id: what it means is where it is missing from.
_DEVICE_CAUSES = {
    "EPCL": "device not on the eligible product list (EPCL)",
    "DMCT": "device not tested by the DCC (DMCT)",
}


def _descriptions(connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """What each (reason, code) means: the EXCLCODE list's description of a code; a to-do
    code's own description (from the TODO list, when the EXCLCODE list has none)."""
    codes = dict(connection.execute("SELECT code, description FROM list_exclcode"))
    todos = dict(
        connection.execute(
            "SELECT todo_code, min(description) FROM list_todo WHERE description <> '' "
            "GROUP BY todo_code"
        )
    )
    described = {("TODO", code): text for code, text in todos.items()}
    for reason in ("STATUSCHG", "NONCOMM", "MANEXCL", "TODO"):
        described.update({(reason, code): text for code, text in codes.items()})
    return described


def _description(described: dict[tuple[str, str], str], reason: str, code: str) -> str:
    return described.get((reason, code)) or _DEVICE_CAUSES.get(reason, "")


def _exclusions(connection: sqlite3.Connection) -> list[ReasonCount]:
    described = _descriptions(connection)
    found: list[ReasonCount] = []
    for state, reason, code, site_wide, meters, via_site in connection.execute(
        """SELECT m.status, m.reason, m.code,
            m.reason IN ('EPCL', 'DMCT', 'TODO') OR coalesce(c.site_wide = 'Y', 0),
            count(*), count(m.via)
        FROM meters AS m INDEXED BY meters_by_status
        LEFT JOIN list_exclcode AS c ON c.code = m.code
        WHERE m.status IN (?, ?)
        GROUP BY m.status, m.reason, m.code""",
        (EXCLUDED, HELD),
    ):
        found.append(
            ReasonCount(
                state,
                reason,
                code,
                bool(site_wide),
                meters,
                meters - via_site,
                via_site,
                round(via_site / meters, 4),
                _description(described, reason, code),
            )
        )
    # Excluded before held, the biggest first.
    found.sort(key=lambda r: (r.status != EXCLUDED, -r.meters, r.reason, r.code))
    return found


def _conflicts(connection: sqlite3.Connection) -> list[Conflict]:
    marks = ", ".join("?" * len(TRANCHE_STATUSES))
    described = _descriptions(connection)
    return [
        Conflict(tranche, reason, code, meters, _description(described, reason, code))
        for tranche, reason, code, meters in connection.execute(
            f"""SELECT t.tranche_id, m.reason, m.code, count(*)
            FROM meters AS m INDEXED BY meters_by_status
            JOIN tranche_meters AS t USING (msn)
            WHERE m.reason IS NOT NULL AND m.status IN ({marks})
            GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC, 2, 3""",
            TRANCHE_STATUSES,
        )
    ]


def _tranches(connection: sqlite3.Connection) -> list[TrancheProgress]:
    files: dict[str, list[str]] = {}
    for tranche, name in connection.execute(
        "SELECT tranche_id, name FROM outbound ORDER BY outbound_id"
    ):
        files.setdefault(tranche, []).append(name)
    progress: list[TrancheProgress] = []
    for row in connection.execute(
        """SELECT t.tranche_id, e.at, t.requested, t.meters, t.sites
        FROM tranches AS t JOIN evaluations AS e USING (eval_id) ORDER BY t.eval_id"""
    ):
        tranche = row[0]
        # One pass over the tranche's meters: its statuses, then the answers and conflicts.
        statuses = ", ".join("sum(m.status = ?)" for _ in TRANCHE_STATUSES)
        answers = connection.execute(
            f"""SELECT {statuses},
                sum(d.decision = 'ACCEPTED'), sum(d.decision = 'REJECTED'), sum(d.msn IS NULL),
                count(t.cs_note), sum(cs.result = 'OK'), sum(cs.result = 'FAIL'),
                sum(t.cs_note IS NOT NULL AND cs.msn IS NULL),
                count(t.mdm_note), sum(md.result = 'OK'), sum(md.result = 'FAIL'),
                sum(t.mdm_note IS NOT NULL AND md.msn IS NULL),
                sum(m.reason IS NOT NULL)
            FROM tranche_meters AS t
            JOIN meters AS m USING (msn)
            LEFT JOIN list_dccresp AS d ON d.msn = t.msn AND d.tranche_id = t.tranche_id
            LEFT JOIN list_csresp AS cs ON cs.msn = t.msn AND cs.tranche_id = t.tranche_id
            LEFT JOIN list_mdmresp AS md ON md.msn = t.msn AND md.tranche_id = t.tranche_id
            WHERE t.tranche_id = ?""",
            (*TRANCHE_STATUSES, tranche),
        ).fetchone()
        counted = [int(value or 0) for value in answers]
        by_status = dict(zip(TRANCHE_STATUSES, counted, strict=False))
        figures = counted[len(TRANCHE_STATUSES) :]
        progress.append(
            TrancheProgress(
                tranche_id=tranche,
                selected_at=row[1],
                requested=row[2],
                meters=row[3],
                sites=row[4],
                by_status=by_status,
                dcc=dict(zip(("accepted", "rejected", "awaiting"), figures[0:3], strict=True)),
                cs=dict(zip(("noted", "ok", "fail", "awaiting"), figures[3:7], strict=True)),
                mdm=dict(zip(("notified", "ok", "fail", "awaiting"), figures[7:11], strict=True)),
                conflicts=figures[11],
                files=files.get(tranche, []),
            )
        )
    return progress


def rows(made: Report) -> Iterator[tuple[str, str, str, int | float]]:
    """The report as (section, group, measure, value) lines, for CSV."""
    yield ("meters", made.env, "meters", made.meters)
    for name, count in made.by_status.items():
        yield ("status", name, "meters", count)
    for reason in made.exclusions:
        group = f"{reason.status} {reason.reason} {reason.code}"
        yield ("exclusions", group, "meters", reason.meters)
        yield ("exclusions", group, "direct", reason.direct)
        yield ("exclusions", group, "via_site", reason.via_site)
        yield ("exclusions", group, "site_share", reason.site_share)
    for conflict in made.conflicts:
        yield (
            "conflicts",
            f"{conflict.tranche_id} {conflict.reason} {conflict.code}",
            "meters",
            conflict.meters,
        )
    for tranche in made.tranches:
        group = tranche.tranche_id
        yield ("tranches", group, "requested", tranche.requested)
        yield ("tranches", group, "meters", tranche.meters)
        yield ("tranches", group, "sites", tranche.sites)
        for name, count in tranche.by_status.items():
            yield ("tranches", group, f"status {name}", count)
        for system in ("dcc", "cs", "mdm"):
            for measure, count in getattr(tranche, system).items():
                yield ("tranches", group, f"{system} {measure}", count)
        yield ("tranches", group, "conflicts", tranche.conflicts)
