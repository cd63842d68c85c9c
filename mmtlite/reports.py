"""What the database says: meter counts by status (``status``), for people and scripts.

Statuses are those of ``MMT.md``; until the rules are evaluated (the next part of mmtlite) every
meter of the master list is ``0`` (loaded). Every status is always listed, zeros included, so a
script can rely on the keys.
"""

from __future__ import annotations

import sqlite3

import msgspec

STATUSES = ("0", "0S", "0Z", "1", "1a")


class Status(msgspec.Struct):
    env: str
    meters: int
    by_status: dict[str, int]


def status(connection: sqlite3.Connection, env: str) -> Status:
    meters = int(connection.execute("SELECT count(*) FROM list_mmt").fetchone()[0])
    by_status = dict.fromkeys(STATUSES, 0)
    by_status["0"] = meters
    return Status(env, meters, by_status)
