"""What the database says, for people and scripts: ``status`` (meters by status) and one
meter's story (``history``). The migration report is in ``migration_report``.

Every status is always listed, zeros included, so a script can rely on the keys.
"""

from __future__ import annotations

import sqlite3

import msgspec

from mmtlite.rules import STATUSES


class Status(msgspec.Struct):
    env: str
    meters: int
    by_status: dict[str, int]


def status(connection: sqlite3.Connection, env: str) -> Status:
    by_status = dict.fromkeys(STATUSES, 0)
    for name, count in connection.execute(
        "SELECT status, count(*) FROM meters INDEXED BY meters_by_status GROUP BY status"
    ):
        by_status[name] = count
    return Status(env, sum(by_status.values()), by_status)
