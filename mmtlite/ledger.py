"""The ledger: every file applied, and the rules that keep each file loading exactly once.

A file is keyed by its content hash, its name, and its category's sequence (per environment: each
environment has its own database). The checks, in order (docs/mmtlite.md, "Loading: exactly once"):

- the same content again is *skipped* (reported, nothing refused);
- the same name with other content is refused (``MMT-C016``);
- a sequence already used by other content is refused (``MMT-C017``);
- a sequence older than the last loaded one is refused as a replay (``MMT-C018``);
- a sequence beyond the next one is a gap, refused (``MMT-C019``) until the missing files arrive
  or the operator forces it; a forced gap is written in the ledger (``forced``).

Decisions where docs/mmtlite.md is silent: each category's first file is sequence 1 (anything higher
is a gap); a copy of a loaded file under another name is the same content, so it is skipped.
"""

from __future__ import annotations

import sqlite3

import msgspec

from mmtlite.codes import C_GAP, C_NAME_REUSED, C_REPLAY, C_SEQUENCE_REUSED
from mmtlite.db import last_id, now


class Entry(msgspec.Struct, frozen=True):
    """A file in the ledger."""

    file_id: int
    name: str
    category: str
    sequence: int
    sha256: str
    loaded_at: str
    forced: str | None


class Verdict(msgspec.Struct, frozen=True):
    """What the ledger says of a new file: skip it, refuse it (code, message), or go on."""

    skip: Entry | None = None
    code: str | None = None
    message: str = ""
    forced: str | None = None  # the note written in the ledger when --force let a gap through


_COLUMNS = "file_id, name, category, sequence, sha256, loaded_at, forced"


def by_content(connection: sqlite3.Connection, sha256: str) -> Entry | None:
    return _one(connection, "sha256 = ?", (sha256,))


def last_sequence(connection: sqlite3.Connection, category: str) -> int:
    """The highest sequence of ``category`` loaded so far, 0 before the first."""
    row = connection.execute(
        "SELECT max(sequence) FROM ledger WHERE category = ?", (category,)
    ).fetchone()
    return int(row[0] or 0)


def judge(
    connection: sqlite3.Connection,
    name: str,
    category: str,
    sequence: int,
    sha256: str,
    force: bool,
) -> Verdict:
    """The ledger's rules for a new file (its content, name and sequence)."""
    same = by_content(connection, sha256)
    if same is not None:
        return Verdict(skip=same)
    named = _one(connection, "name = ?", (name,))
    if named is not None:
        return Verdict(
            code=C_NAME_REUSED,
            message=f"a file named {name} was loaded at {named.loaded_at} with other content "
            "(a file is never replaced: send the change as a new file)",
        )
    numbered = _one(connection, "category = ? AND sequence = ?", (category, sequence))
    if numbered is not None:
        return Verdict(
            code=C_SEQUENCE_REUSED,
            message=f"{category} sequence {sequence} was already loaded from {numbered.name} "
            "with other content",
        )
    last = last_sequence(connection, category)
    if sequence < last:
        return Verdict(
            code=C_REPLAY,
            message=f"{category} sequence {sequence} is older than the last loaded ({last}): "
            "a replay is never applied",
        )
    if sequence > last + 1:
        missing = f"{last + 1}" if sequence == last + 2 else f"{last + 1} to {sequence - 1}"
        if not force:
            return Verdict(
                code=C_GAP,
                message=f"{category} sequence {sequence} follows {last}: sequence {missing} "
                "missing; load the missing files first, or --force if they will never come",
            )
        return Verdict(forced=f"gap forced: {category} sequence {missing} never loaded")
    return Verdict()


def record(
    connection: sqlite3.Connection,
    *,
    name: str,
    category: str,
    env: str,
    sequence: int,
    created: str,
    sha256: str,
    rows: int,
    forced: str | None,
    load_id: int,
) -> int:
    """Add the file to the ledger (inside the transaction that applies it); its ``file_id``."""
    cursor = connection.execute(
        "INSERT INTO ledger (name, category, env, sequence, created, sha256, rows, forced, "
        "load_id, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (name, category, env, sequence, created, sha256, rows, forced, load_id, now()),
    )
    return last_id(cursor)


def entries(connection: sqlite3.Connection) -> list[Entry]:
    """The whole ledger, in loading order."""
    rows = connection.execute(f"SELECT {_COLUMNS} FROM ledger ORDER BY file_id").fetchall()
    return [Entry(*row) for row in rows]


def _one(
    connection: sqlite3.Connection, where: str, parameters: tuple[object, ...]
) -> Entry | None:
    row = connection.execute(f"SELECT {_COLUMNS} FROM ledger WHERE {where}", parameters).fetchone()
    return Entry(*row) if row is not None else None
