"""The activity log (``runs``, ``loads``) and the error table: written by loads, read by reports.

A file's log entry is committed as ``started`` before its data transaction begins, and updated
in that same transaction when it ends. A process killed in between leaves the ``started`` entry
(SQLite rolled its data back); the next writer, holding the lock, marks it ``aborted``.

Outcomes of a file: ``started``, ``loaded`` (every row good), ``loaded with errors`` (bad rows
within the budget, listed in ``errors``), ``skipped`` (this content is already loaded),
``refused`` (nothing applied), ``aborted`` (its run died).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from itertools import islice
from pathlib import PurePath

import msgspec

from mmtlite.db import last_id, now, transaction
from mmtlite.findings import Finding, LoggedFinding

STARTED = "started"
LOADED = "loaded"
LOADED_WITH_ERRORS = "loaded with errors"
SKIPPED = "skipped"
REFUSED = "refused"
ABORTED = "aborted"


class Counts(msgspec.Struct):
    """What a file did to its list."""

    rows_read: int = 0  # detail rows in the file
    added: int = 0
    changed: int = 0  # keys already there with other data
    removed: int = 0
    rejected: int = 0  # bad rows (distinct lines)


class LoadEntry(msgspec.Struct, frozen=True):
    """One row of the activity log: a file handled by a run."""

    load_id: int
    run_id: int
    command: str
    file: str
    category: str | None
    sequence: int | None
    started: str
    ended: str | None
    outcome: str
    rows_read: int
    added: int
    changed: int
    removed: int
    rejected: int
    message: str


def mark_aborted(connection: sqlite3.Connection) -> list[LoadEntry]:
    """Mark what dead runs left open as ``aborted``: their ``started`` files (returned) and the
    runs themselves (a run can die between files too). Only the lock holder may call it: no
    other run is alive then."""
    orphans = entries(connection, outcome=STARTED)
    dead_runs = connection.execute("SELECT count(*) FROM runs WHERE outcome = 'running'")
    if orphans or dead_runs.fetchone()[0]:
        ended = now()
        with transaction(connection):
            connection.execute(
                "UPDATE loads SET outcome = ?, ended = ?, message = ? WHERE outcome = ?",
                (
                    ABORTED,
                    ended,
                    "its run stopped before the file finished (killed or crashed): nothing of "
                    "it was applied",
                    STARTED,
                ),
            )
            connection.execute(
                "UPDATE runs SET outcome = ?, ended = ? WHERE outcome = 'running'",
                (ABORTED, ended),
            )
    return orphans


def start_run(connection: sqlite3.Connection, command: str) -> int:
    with transaction(connection):
        return run_entry(connection, command)


def run_entry(connection: sqlite3.Connection, command: str) -> int:
    """The run's ``running`` entry, in the caller's transaction."""
    cursor = connection.execute(
        "INSERT INTO runs (command, pid, started, outcome) VALUES (?, ?, ?, 'running')",
        (command, os.getpid(), now()),
    )
    return last_id(cursor)


def end_run(connection: sqlite3.Connection, run_id: int, outcome: str) -> None:
    with transaction(connection):
        connection.execute(
            "UPDATE runs SET ended = ?, outcome = ? WHERE run_id = ?", (now(), outcome, run_id)
        )


def refuse_run(connection: sqlite3.Connection, run_id: int, why: str) -> None:
    """End the run as refused for ``why``, and the file it had started (nothing of it was
    applied)."""
    ended = now()
    with transaction(connection):
        connection.execute(
            "UPDATE loads SET outcome = ?, ended = ?, message = ? WHERE run_id = ? AND outcome = ?",
            (REFUSED, ended, f"{why}: nothing of it was applied", run_id, STARTED),
        )
        connection.execute(
            "UPDATE runs SET ended = ?, outcome = ? WHERE run_id = ?",
            (ended, f"refused: {why}", run_id),
        )


def start_file(connection: sqlite3.Connection, run_id: int, file: str) -> int:
    """The file's ``started`` entry, committed before any of its data is touched."""
    with transaction(connection):
        cursor = connection.execute(
            "INSERT INTO loads (run_id, file, started, outcome) VALUES (?, ?, ?, ?)",
            (run_id, file, now(), STARTED),
        )
    return last_id(cursor)


def end_file(
    connection: sqlite3.Connection,
    load_id: int,
    outcome: str,
    counts: Counts,
    message: str,
    *,
    category: str | None,
    sequence: int | None,
    sha256: str | None,
    errors: Iterable[Finding] = (),
) -> None:
    """Close the file's entry and store its errors; inside the caller's transaction."""
    connection.execute(
        "UPDATE loads SET ended = ?, outcome = ?, category = ?, sequence = ?, sha256 = ?, "
        "rows_read = ?, added = ?, changed = ?, removed = ?, rejected = ?, message = ? "
        "WHERE load_id = ?",
        (
            now(),
            outcome,
            category,
            sequence,
            sha256,
            counts.rows_read,
            counts.added,
            counts.changed,
            counts.removed,
            counts.rejected,
            message,
            load_id,
        ),
    )
    connection.executemany(
        'INSERT INTO errors (load_id, file, line, "column", code, message) '
        "VALUES (?, ?, ?, ?, ?, ?)",
        ((load_id, e.file, e.line, e.column, e.code, e.message) for e in errors),
    )


def entries(
    connection: sqlite3.Connection,
    *,
    outcome: str | None = None,
    limit: int | None = None,
) -> list[LoadEntry]:
    """Activity log entries, newest first."""
    where, parameters = ("WHERE loads.outcome = ?", [outcome]) if outcome else ("", [])
    rows = connection.execute(
        "SELECT load_id, loads.run_id, runs.command, file, category, sequence, loads.started, "
        "loads.ended, loads.outcome, rows_read, added, changed, removed, rejected, message "
        f"FROM loads JOIN runs USING (run_id) {where} ORDER BY load_id DESC LIMIT ?",
        (*parameters, -1 if limit is None else limit),
    ).fetchall()
    return [LoadEntry(*row) for row in rows]


def error_rows(
    connection: sqlite3.Connection,
    *,
    load_id: int | None = None,
    file: str | None = None,
    limit: int | None = None,
) -> list[LoggedFinding]:
    """The error table, newest load first, then by line; filtered by load, or by file (its
    name: the same file is often given by other paths)."""
    conditions: list[str] = []
    parameters: list[object] = []
    if load_id is not None:
        conditions.append("load_id = ?")
        parameters.append(load_id)
    name = PurePath(file).name if file is not None else None
    if name is not None:
        # LIKE narrows it down (ignoring case); the exact name is compared below.
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append("(file = ? OR file LIKE ? ESCAPE '\\')")
        parameters.extend([name, f"%/{escaped}"])
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    found = (
        LoggedFinding(*row)
        for row in connection.execute(
            f'SELECT code, file, line, "column", message, load_id FROM errors {where} '
            "ORDER BY load_id DESC, line IS NOT NULL, line, error_id",
            parameters,
        )
    )
    if name is not None:
        found = (error for error in found if PurePath(error.file).name == name)
    return list(islice(found, limit))
