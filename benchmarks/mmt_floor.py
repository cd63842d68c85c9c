"""What SQLite itself needs for a load's writes at a million meters: the floor of ``measure_mmt``.

Run by ``measure_mmt`` in each round, side by side with mmtlite's loads, on a copy of the
database its ALL load made (1,000,000 meters, every index in place). Whole processes of the
``sqlite3`` shell with mmtlite's page cache (16 MiB), no rules, no Python:

- ``floor_add_meters``: ``.import`` of the ADD's 100,000 new meters into ``meters`` (its key and
  its indexes as the schema has them), in site order (the order of the table), one
  transaction, and the checkpoint at exit;
- ``floor_add``: the same and what an ADD writes besides, at the least: its rows in
  ``list_mmt`` and one ``history`` row per new meter (each file sorted by its table's key);
- ``floor_remove``: after ``floor_add``, the REMOVE's 100,000 meters deleted from ``list_mmt``
  (by its key, the MSN) and from ``meters`` (by its key, site and MSN, found through the MSN
  index: twice as fast as SQLite's own plan, a delete by MSN), a ``history`` row each, one
  transaction;
- ``floor_quick_check``: ``PRAGMA quick_check`` of every page (the check a load runs before it
  applies a file), at a million meters;
- ``floor_startup``: ``python -c "import mmtlite.loader, nem2cdr_cli.mmtlite_commands"``: the
  interpreter and the imports every ``mmtlite load`` pays before it opens the database.

The rows are derived from the ADD and REMOVE files (``mmt_files``): what mmtlite writes for them
in the benchmark's world (no device list yet, so every meter is excluded, ``EPCL``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from benchmarks.mmt_files import MmtFiles
from benchmarks.process import Measured, run_measured

FLOOR_STEPS = (
    "floor_startup",
    "floor_quick_check",
    "floor_add_meters",
    "floor_add",
    "floor_remove",
)
_CACHE = "PRAGMA cache_size = -16384"  # mmtlite's (db.open_file)
_ADDED_BY, _REMOVED_BY = 2, 3  # the ledger's file_id of the ADD and the REMOVE (after the ALL)


def _detail(path: Path) -> list[list[str]]:
    lines = path.read_text().split("\n")[1:-2]  # between the header and the trailer
    return [line.split("|") for line in lines]


def _write(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with open(path, "w") as out:
        out.writelines("|".join(row) + "\n" for row in sorted(rows))
    return path


def _shell(sqlite_shell: str, database: Path, *commands: str) -> Measured:
    measured = run_measured(
        [sqlite_shell, str(database), "-cmd", _CACHE, "-cmd", ".mode list", *commands]
    )
    if measured.returncode != 0 or "rror" in measured.stderr:
        raise SystemExit(f"sqlite3 {commands}: {measured.stderr.strip()[:500]}")
    return measured


def measure_floor(
    sqlite_shell: str, files: MmtFiles, built: Path, folder: Path
) -> dict[str, Measured]:
    """The floor steps on copies of ``built`` (a database after the ALL load, closed)."""
    added = _detail(files.add)  # msn, site_id, mpxn, fuel, dmc_id, install_date, action
    gone = [row[0] for row in _detail(files.remove)]
    file_id, removing = str(_ADDED_BY), str(_REMOVED_BY)
    # The columns of each table, as mmtlite fills them (NULL written as the empty text).
    meters = _write(
        folder / "meters.psv",
        [(r[1], r[0], r[4], r[2], "1", "0Z", "EPCL", r[4], "", "") for r in added],
    )
    listed = _write(folder / "list.psv", [(*r[:6], file_id) for r in added])
    history = _write(
        folder / "history.psv",
        [(r[0], file_id, "", "0Z", "EPCL", r[4], "", file_id, "") for r in added],
    )
    keys = _write(folder / "keys.psv", [(msn,) for msn in gone])
    results: dict[str, Measured] = {}
    results["floor_startup"] = run_measured(
        [sys.executable, "-c", "import mmtlite.loader, nem2cdr_cli.mmtlite_commands"]
    )
    database = folder / "floor.sqlite"
    shutil.copyfile(built, database)
    results["floor_quick_check"] = _shell(sqlite_shell, database, "PRAGMA quick_check")
    separator = ".separator |"
    results["floor_add_meters"] = _shell(
        sqlite_shell, database, "-cmd", separator, "BEGIN", f".import {meters} meters", "COMMIT"
    )
    shutil.copyfile(built, database)
    results["floor_add"] = _shell(
        sqlite_shell,
        database,
        "-cmd",
        separator,
        "BEGIN",
        f".import {listed} list_mmt",
        f".import {meters} meters",
        f".import {history} history",
        "COMMIT",
    )
    results["floor_remove"] = _shell(
        sqlite_shell,
        database,
        "-cmd",
        separator,
        "CREATE TEMP TABLE gone (msn TEXT PRIMARY KEY) WITHOUT ROWID",
        f".import --schema temp {keys} gone",
        "BEGIN",
        "DELETE FROM list_mmt WHERE msn IN (SELECT msn FROM temp.gone)",
        "DELETE FROM meters INDEXED BY sqlite_autoindex_meters_1 WHERE (site_id, msn) IN "
        "(SELECT m.site_id, m.msn FROM temp.gone CROSS JOIN meters AS m USING (msn))",
        "INSERT INTO history (msn, eval_id, old_status, reason, code, file_id) "
        f"SELECT msn, {removing}, '0Z', 'MMT', 'REMOVED', {removing} FROM temp.gone",
        "COMMIT",
    )
    database.unlink()
    return results
