"""Applying a checked file's good rows to its list table (inside the caller's transaction).

- ``ALL``: the file is the complete list of its category. Keys absent from it are removed,
  except keys named by the file's rejected rows (a bad row is no reason to delete what is
  there); keys with other data are changed; new keys added.
- Either way, a file that removes more than ``max_delete`` of its list is refused
  (``MMT-C021``) unless forced.
- ``ADD`` / ``REMOVE``: the last action per key wins. ``ADD`` of a key already there replaces
  its data (counted as changed, or as nothing when the data is the same); ``REMOVE`` of a key
  not there changes nothing (and is said in the log message).
- Categories without an action column (the responses) are added or replaced by key.

Speed: rows are inserted in the order of their text (``ParsedFile.by_key``: nearly the keys'
order), so the key B-tree grows at its right edge: a million-meter master list inserts about
twice as fast as in file order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from itertools import repeat
from operator import attrgetter, itemgetter

import msgspec

from mmtlite.activity import Counts
from mmtlite.categories import ADD, REMOVE, Category
from mmtlite.codes import C_MASS_DELETE, R_UNKNOWN_CODE
from mmtlite.fileformat import ParsedFile, Row, show, the_last_action_per_key
from mmtlite.findings import Finding
from mmtlite.schema import list_table

# REMOVE rows any file may carry whatever the share of its list they are (see ``apply``).
REMOVE_ALLOWANCE = 10


class MassDelete(Exception):
    """A file would remove more of its list than allowed (an ``ALL`` file's absent keys or its
    ``REMOVE`` rows); the transaction rolls back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = C_MASS_DELETE


class Applied(msgspec.Struct):
    counts: Counts
    notes: list[str]  # said in the log message
    # The first key column (the MSN, in the lists keyed by it) of the rows removed, or of the
    # REMOVE rows (some may have named nothing); the rows added or changed carry the file_id.
    removed_keys: list[str]


def known_codes(connection: sqlite3.Connection) -> set[str]:
    """The exclusion reason codes loaded so far (the EXCLCODE list)."""
    return {code for (code,) in connection.execute("SELECT code FROM list_exclcode")}


def apply(
    connection: sqlite3.Connection,
    spec: Category,
    parsed: ParsedFile,
    rows: list[Row],
    file_id: int,
    *,
    max_delete: float,
    force: bool,
) -> Applied:
    """Apply ``rows`` (the good rows of ``parsed``, in file order) to the list of ``spec``."""
    table = _Table(connection, spec, file_id)
    before = table.count()
    notes: list[str] = []
    if parsed.rejected_keys:
        # A key with a rejected row is left as it was: its other rows cannot be trusted to be
        # the file's last word on it (the rejected row may have been).
        rejected = parsed.rejected_keys
        kept = [row for row in rows if row.key not in rejected]
        if len(kept) < len(rows):
            withheld = len(rows) - len(kept)
            notes.append(
                f"{withheld:,} good {'row' if withheld == 1 else 'rows'} not applied: "
                "the same key has a rejected row"
            )
            rows = kept
    last = _in_key_order(parsed, rows)
    # A file whose rows were all rejected or withheld is no complete list (nor is an empty one).
    complete = parsed.complete and bool(last)
    if complete:
        adds = last
        removed_keys = table.remove_all_but(last, parsed.rejected_keys) if before else []
        removed = len(removed_keys)
    else:
        if spec.has_action:
            adds = [row for row in last if row.action == ADD]
            removes = [row for row in last if row.action == REMOVE]
        else:
            adds, removes = last, []
        removed = table.delete(removes)
        removed_keys = [row.key.split(row.delimiter)[0] for row in removes]
        if removed < len(removes):
            notes.append(f"{len(removes) - removed:,} REMOVE rows named keys not in the list")
    # One guard for every way of deleting: a complete list's absent keys and REMOVE rows alike.
    # REMOVE rows name their keys one by one, so a few of them (a to-do done, one exclusion
    # lifted in a small list) are routine; a complete list deletes by leaving keys out, and a
    # file cut short leaves out everything after the cut, so it has no such allowance.
    allowed = max_delete * before if complete else max(max_delete * before, REMOVE_ALLOWANCE)
    if before and removed > allowed:
        share = f"{removed:,} of {before:,} {spec.name} rows ({removed / before:.0%})"
        if not force:
            how = "the complete list" if complete else "its REMOVE rows"
            raise MassDelete(
                f"{how} would remove {share}, more than {max_delete:.0%}: --force if meant"
            )
        notes.append(f"mass delete forced: {share} removed")
    changes = connection.total_changes
    if before - removed:
        table.upsert(adds)
        written = connection.total_changes - changes
        added = table.count() - (before - removed)
    else:
        # Nothing to collide with: the plain, faster statement, and every row is new (a key
        # is there once; counting a million rows again took 0.15-0.47 s).
        table.insert(adds)
        written = added = len(adds)
    return Applied(
        Counts(added=added, changed=written - added, removed=removed), notes, removed_keys
    )


def _in_key_order(parsed: ParsedFile, rows: list[Row]) -> list[Row]:
    """The last row of each key of ``rows``, in key order (see ``ParsedFile.by_key``)."""
    if parsed.repeated_keys:
        rows = the_last_action_per_key(rows)
    elif rows is parsed.rows:
        return parsed.by_key
    return sorted(rows, key=attrgetter("text"))


def _fields(rows: list[Row], count: int) -> Iterator[list[str]]:
    """The first ``count`` fields of each row, split with no Python call per row (a million
    rows go through here)."""
    if not rows:
        return iter(())
    split = map(str.split, map(attrgetter("text"), rows), repeat(rows[0].delimiter), repeat(count))
    first = itemgetter(slice(count))
    return map(first, split)


class _Table:
    """The SQL of one list table."""

    def __init__(self, connection: sqlite3.Connection, spec: Category, file_id: int) -> None:
        self.connection = connection
        self.spec = spec
        self.file_id = file_id
        self.name = list_table(spec)
        self.columns = [column.name for column in spec.columns]
        self.width = len(self.columns)
        self.key = ", ".join(spec.key)
        marks = ", ".join("?" * self.width)
        # file_id is ours (an int), so it is written into the statement: one parameter less
        # to bind a million times.
        self.insert_sql = f"INSERT INTO {self.name} VALUES ({marks}, {int(file_id)})"
        others = [name for name in self.columns if name not in spec.key]
        assignments = ", ".join(f"{name} = excluded.{name}" for name in others)
        differs = " OR ".join(f"{self.name}.{name} IS NOT excluded.{name}" for name in others)
        # Unchanged rows are not written: they keep the file that first said so.
        self.upsert_sql = (
            f"{self.insert_sql} ON CONFLICT ({self.key}) DO UPDATE SET {assignments}, "
            f"file_id = excluded.file_id WHERE {differs or 'false'}"
        )

    def count(self) -> int:
        return int(self.connection.execute(f"SELECT count(*) FROM {self.name}").fetchone()[0])

    def insert(self, rows: list[Row]) -> None:
        self.connection.executemany(self.insert_sql, _fields(rows, self.width))

    def upsert(self, rows: list[Row]) -> None:
        self.connection.executemany(self.upsert_sql, _fields(rows, self.width))

    def delete(self, rows: list[Row]) -> int:
        changes = self.connection.total_changes
        where = " AND ".join(f"{name} = ?" for name in self.spec.key)
        self.connection.executemany(
            f"DELETE FROM {self.name} WHERE {where}", _fields(rows, len(self.spec.key))
        )
        return self.connection.total_changes - changes

    def remove_all_but(self, rows: list[Row], kept: set[str]) -> list[str]:
        """Remove every row whose key is not in ``rows`` nor in ``kept``; the first key
        column of each."""
        incoming = f"incoming_{self.name}"
        key_columns = ", ".join(f"{name} TEXT NOT NULL" for name in self.spec.key)
        self.connection.execute(
            f"CREATE TEMP TABLE {incoming} ({key_columns}, PRIMARY KEY ({self.key})) WITHOUT ROWID"
        )
        try:
            width = len(self.spec.key)
            delimiter = rows[0].delimiter if rows else "|"
            marks = ", ".join("?" * width)
            keys = _fields(rows, width)
            self.connection.executemany(f"INSERT INTO {incoming} VALUES ({marks})", keys)
            self.connection.executemany(
                f"INSERT OR IGNORE INTO {incoming} VALUES ({marks})",
                (key.split(delimiter) for key in sorted(kept)),
            )
            removed = [
                key
                for (key,) in self.connection.execute(
                    f"DELETE FROM {self.name} WHERE ({self.key}) NOT IN (SELECT {self.key} "
                    f"FROM {incoming}) RETURNING {self.spec.key[0]}"
                )
            ]
        finally:
            self.connection.execute(f"DROP TABLE temp.{incoming}")
        return removed


def reject_unknown_codes(
    connection: sqlite3.Connection, spec: Category, parsed: ParsedFile
) -> tuple[list[Row], list[Finding]]:
    """The file's good rows whose coded columns hold EXCLCODE codes, and errors for the rest.

    A ``REMOVE`` row needs only its key, so its codes are not checked. A rejected row's key is
    added to ``parsed.rejected_keys``.
    """
    if not spec.coded:
        return parsed.rows, []
    codes = known_codes(connection)
    positions = [(spec.column_names.index(name), name) for name in spec.coded]
    good: list[Row] = []
    errors: list[Finding] = []
    for row in parsed.rows:
        if row.action != REMOVE:
            fields = row.text.split(row.delimiter)
            unknown = [(name, fields[at]) for at, name in positions if fields[at] not in codes]
            if unknown:
                for name, value in unknown:
                    errors.append(
                        Finding(
                            R_UNKNOWN_CODE,
                            parsed.file,
                            row.line,
                            name,
                            f"{name} {show(value)} is not a code of the EXCLCODE list",
                        )
                    )
                parsed.rejected_keys.add(row.key)
                continue
        good.append(row)
    return (good, errors) if errors else (parsed.rows, [])
