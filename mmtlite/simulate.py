"""Playing the other systems in a test environment: the DCC, CS and MDM answer a tranche's file.

``mmtlite respond dcc|cs|mdm --tranche ID`` reads the rows of the last file mmtlite sent that
system for the tranche (DCCCAND, CSNOTE, MDMNOTIF) and writes the answer (DCCRESP, CSRESP,
MDMRESP) into the system's inbound folder with the next sequence, as the real system would:
every meter accepted or OK except a share (``fail``, default 2%) chosen by the seed, so the
same call always writes the same rows. Never in prod: a made-up answer must not reach it.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime
from pathlib import Path

import msgspec

from mmtlite.categories import CATEGORIES
from mmtlite.errors import Exists, MmtliteError
from mmtlite.fileformat import parse, write
from mmtlite.numbering import free_name, next_sequence, numbering
from mmtlite.paths import Place
from mmtlite.writing import write_file

_SENT = {"dcc": "DCCCAND", "cs": "CSNOTE", "mdm": "MDMNOTIF"}
_ANSWER = {"dcc": "DCCRESP", "cs": "CSRESP", "mdm": "MDMRESP"}
# What a failed row says, per system.
_FAILED = {
    "dcc": ("REJECTED", "COMMS"),
    "cs": ("FAIL", "account locked"),
    "mdm": ("FAIL", "meter not found"),
}
_PASSED = {"dcc": ("ACCEPTED", ""), "cs": ("OK", ""), "mdm": ("OK", "")}


class SimulateError(MmtliteError):
    """No answer can be made (prod, nothing sent)."""


class Answer(msgspec.Struct):
    path: str
    category: str
    sequence: int
    rows: int
    failed: int


def check_env(place: Place) -> None:
    """``SimulateError`` in prod: a made-up answer must not reach it."""
    if place.env == "prod":
        raise SimulateError("respond makes up answers: never in prod")


def respond(
    connection: sqlite3.Connection,
    place: Place,
    system: str,
    tranche_id: str,
    *,
    when: datetime,
    fail: float = 0.02,
    seed: int = 0,
) -> Answer:
    """Write ``system``'s answer to its last file of ``tranche_id`` into its inbound folder."""
    check_env(place)
    sent = connection.execute(
        "SELECT name, folder FROM outbound WHERE category = ? AND tranche_id = ? "
        "ORDER BY outbound_id DESC LIMIT 1",
        (_SENT[system], tranche_id),
    ).fetchone()
    if sent is None:
        raise SimulateError(f"no {_SENT[system]} file was written for tranche {tranche_id}")
    parsed = parse(Path(sent[1]) / sent[0], env=place.env)
    if parsed.refused:
        raise SimulateError(f"{sent[0]} cannot be read back: {parsed.control_failures[0].message}")
    rng = random.Random(f"{seed}:{system}:{tranche_id}")
    rows: list[tuple[str, str, str, str]] = []
    failed = 0
    for row in parsed.rows:
        msn = row.text.split(row.delimiter, 1)[0]
        verdict = _FAILED[system] if rng.random() < fail else _PASSED[system]
        failed += verdict is _FAILED[system]
        rows.append((msn, tranche_id, *verdict))
    category = _ANSWER[system]
    spec = CATEGORIES[category]
    folder = place.inbound(category)
    with numbering(place, "respond"):
        sequence = next_sequence(place, spec)
        created, name = free_name(folder, category, place.env, when)
        path = folder / name
        try:  # written under a hidden name first: ingest leaves hidden files alone
            write_file(path, write(category, place.env, sequence, created, rows), exclusive=True)
        except Exists:  # not one of ours: a writer that does not take the lock
            raise SimulateError(f"{path} exists already: try again in a second") from None
    return Answer(str(path), category, sequence, len(rows), failed)
