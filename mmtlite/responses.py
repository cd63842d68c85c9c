"""The answers of the DCC, CS and MDM, checked against the tranches when they load.

A row must name a tranche that exists and a meter of that tranche (``MMT-R010``, ``MMT-R011``);
a CSRESP or MDMRESP row must answer a CS note or an MDM notification that was sent for the
meter (``MMT-R012``).
"""

from __future__ import annotations

import sqlite3

from mmtlite.categories import Category
from mmtlite.codes import R_NOT_IN_TRANCHE, R_NOTHING_SENT, R_UNKNOWN_TRANCHE
from mmtlite.fileformat import ParsedFile, Row, show
from mmtlite.findings import Finding

_RESPONSE_NOTE = {"CSRESP": "cs_note", "MDMRESP": "mdm_note"}


def check_responses(
    connection: sqlite3.Connection, spec: Category, parsed: ParsedFile, rows: list[Row]
) -> tuple[list[Row], list[Finding]]:
    """The response rows that answer a meter of a known tranche (and, for CS and MDM, a note
    that was sent); errors for the others. A rejected row's key joins ``parsed.rejected_keys``."""
    tranches = {tranche for (tranche,) in connection.execute("SELECT tranche_id FROM tranches")}
    note = _RESPONSE_NOTE.get(spec.name)
    sent = f", {note} IS NOT NULL" if note else ", 1"
    good: list[Row] = []
    errors: list[Finding] = []
    lookup = connection.cursor()
    for row in rows:
        msn, tranche = row.text.split(row.delimiter, 2)[:2]
        problem: tuple[str, str, str] | None = None
        if tranche not in tranches:
            problem = (R_UNKNOWN_TRANCHE, "tranche_id", f"tranche {show(tranche)} is unknown")
        else:
            found = lookup.execute(
                f"SELECT tranche_id{sent} FROM tranche_meters WHERE msn = ?", (msn,)
            ).fetchone()
            if found is None or found[0] != tranche:
                where = f"in tranche {found[0]}" if found else "in no tranche"
                problem = (R_NOT_IN_TRANCHE, "msn", f"meter {msn} is {where}, not {tranche}")
            elif not found[1]:
                what = "CS note" if note == "cs_note" else "MDM notification"
                problem = (R_NOTHING_SENT, "msn", f"no {what} was sent for meter {msn}")
        if problem is None:
            good.append(row)
            continue
        code, column, message = problem
        errors.append(Finding(code, parsed.file, row.line, column, message))
        parsed.rejected_keys.add(row.key)
    return good, errors
