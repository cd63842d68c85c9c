"""What the database says, for people and scripts: ``status`` (meters by status) and one
meter's story (``history``). The migration report is in ``migration_report``.

Every status is always listed, zeros included, so a script can rely on the keys.
"""

from __future__ import annotations

import sqlite3

import msgspec

from mmtlite.categories import CATEGORIES
from mmtlite.rules import MEANING, STATUSES, TRANCHE_STATUSES
from mmtlite.schema import list_table


class Status(msgspec.Struct):
    env: str
    meters: int
    by_status: dict[str, int]


def status(connection: sqlite3.Connection, env: str) -> Status:
    by_status = dict.fromkeys(STATUSES, 0)
    for name, count in connection.execute("SELECT status, count(*) FROM meters GROUP BY status"):
        by_status[name] = count
    return Status(env, sum(by_status.values()), by_status)


def describe(
    status: str | None, reason: str | None, code: str | None, via: str | None, tranche: str | None
) -> str:
    """A status and its cause in words: "excluded: NONCOMM NC01 on its site-mate X", ..."""
    cause = ""
    if reason is not None:
        cause = f"{reason} {code}" if code else reason
        if via is not None:
            cause += f" (site-mate {via})"
    if status is None:
        return f"left the master list ({cause})" if cause else "left the master list"
    meaning = MEANING.get(status, status)
    if status in TRANCHE_STATUSES:
        text = f"{meaning}, tranche {tranche}" if tranche else meaning
        return f"{text}; conflict: {cause}" if cause else text
    return f"{meaning}: {cause}" if cause else meaning


class Event(msgspec.Struct):
    """One change in a meter's history."""

    at: str
    old_status: str | None
    status: str | None
    reason: str | None
    code: str | None
    via: str | None
    tranche_id: str | None
    cause: str  # in words
    source: str | None  # the file holding the fact, or the one that triggered the change
    trigger: str  # what ran: "load <file>", "select --tranche T1", ...


class Fact(msgspec.Struct):
    category: str
    values: dict[str, str]
    file: str | None


class Story(msgspec.Struct):
    """``mmtlite history MSN``: where a meter stands, why, and how it got there."""

    msn: str
    status: str | None  # None: not (or no longer) known
    cause: str
    site_id: str | None
    dmc_id: str | None
    in_master_list: bool
    tranche_id: str | None
    facts: list[Fact]
    site_mates: dict[str, str]  # msn -> status
    events: list[Event]


# The lists that say something about one meter: its exclusions and to-do, and the answers of
# the DCC, CS and MDM about it.
_FACT_LISTS = ("STATUSCHG", "NONCOMM", "MANEXCL", "TODO", "DCCRESP", "CSRESP", "MDMRESP")


def history(connection: sqlite3.Connection, msn: str) -> Story | None:
    """One meter's story, or None when no list or history names it."""
    current = connection.execute(
        "SELECT m.status, m.reason, m.code, m.via, m.site_id, m.dmc_id, m.in_list, t.tranche_id "
        "FROM meters AS m LEFT JOIN tranche_meters AS t USING (msn) WHERE m.msn = ?",
        (msn,),
    ).fetchone()
    events = [
        Event(
            at,
            old,
            new,
            reason,
            code,
            via,
            tranche,
            describe(new, reason, code, via, tranche),
            source,
            trigger,
        )
        for at, old, new, reason, code, via, tranche, source, trigger in connection.execute(
            """SELECT e.at, h.old_status, h.status, h.reason, h.code, h.via, h.tranche_id,
                l.name, e.trigger
            FROM meter_history AS h JOIN evaluations AS e USING (eval_id)
            LEFT JOIN ledger AS l ON l.file_id = h.file_id
            WHERE h.msn = ? ORDER BY h.eval_id""",
            (msn,),
        )
    ]
    facts = _facts(connection, msn)
    if current is None and not events and not facts:
        return None
    if current is None:
        return Story(
            msn, None, "not in the master list", None, None, False, None, facts, {}, events
        )
    status, reason, code, via, site, device, in_list, tranche = current
    mates = dict(
        connection.execute(
            "SELECT msn, status FROM meters WHERE site_id = ? AND msn <> ? ORDER BY msn",
            (site, msn),
        ).fetchall()
    )
    if device is not None:
        for category in ("EPCL", "DMCT"):
            listed = connection.execute(
                f"SELECT l.name FROM {list_table(CATEGORIES[category])} AS x "
                "JOIN ledger AS l USING (file_id) WHERE x.dmc_id = ?",
                (device,),
            ).fetchone()
            values = {"dmc_id": device, "listed": "yes" if listed else "no"}
            facts.append(Fact(category, values, listed[0] if listed else None))
    return Story(
        msn,
        status,
        describe(status, reason, code, via, tranche),
        site,
        device,
        bool(in_list),
        tranche,
        facts,
        mates,
        events,
    )


def _facts(connection: sqlite3.Connection, msn: str) -> list[Fact]:
    """The meter's rows in the lists that exclude or hold it."""
    facts: list[Fact] = []
    for name in _FACT_LISTS:
        spec = CATEGORIES[name]
        columns = [column.name for column in spec.columns]
        row = connection.execute(
            f"SELECT {', '.join('x.' + c for c in columns)}, l.name FROM {list_table(spec)} AS x "
            "LEFT JOIN ledger AS l USING (file_id) WHERE x.msn = ?",
            (msn,),
        ).fetchone()
        if row is not None:
            facts.append(Fact(name, dict(zip(columns[1:], row[1:-1], strict=True)), row[-1]))
    return facts
