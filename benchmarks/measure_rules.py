"""mmtlite's migration steps at scale: re-evaluating the rules, selecting a tranche, the status.

    python -m benchmarks.measure_rules              # 1,000,000 meters, 3 rounds
    python -m benchmarks.measure_rules --meters 100000 --rounds 1

Once (cached under ``benchmarks/data/mmt-world-<meters>-<hash>/``): ``mmtlite generate`` of a
realistic set (codes, device lists, master list, exclusions, to-dos, status changes), ingested
into a home. Each round, on a copy of that database:

1. ``rules``: a NONCOMM ``ADD`` of 1,000 meters (the next sequence) is loaded, and the rule
   evaluation that runs in its transaction is timed (``statuses.seconds`` of the load's JSON);
   also ``rules_full``: ``rules.evaluate`` alone in this process, and ``rules_release``: the
   evaluation after every to-do item is gone at once (tens of thousands of meters released),
   both rolled back;
2. ``select``: ``mmtlite select --size 100000`` (whole process), and the selection alone in
   this process (``select_in_process``, rolled back);
3. ``status``: ``mmtlite status --format json`` (whole process) and ``reports.status`` alone.

Targets (the issue): rules at most 2 s, a tranche of 100,000 at most 1 s, the status report at
most 0.5 s. Medians of the rounds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.files import DATA_DIR
from benchmarks.process import code_version, console_script, median, run_measured
from mmtlite import rules
from mmtlite.fileformat import file_name, write
from mmtlite.migrations import connect
from mmtlite.paths import Place
from mmtlite.reports import status

TARGETS = {"rules": 2.0, "select": 1.0, "status": 0.5}
TRANCHE = 100_000
NEW_EXCLUSIONS = 1_000


def world(mmtlite: str, meters: int) -> Path:
    """The database of a generated, ingested home of ``meters`` meters (made once)."""
    import mmtlite as package

    sources = b"".join(
        path.read_bytes() for path in sorted(Path(package.__file__).parent.glob("*.py"))
    )
    tag = hashlib.sha256(sources).hexdigest()[:10]
    folder = DATA_DIR / f"mmt-world-{meters}-{tag}"
    database = folder / "mmt_build.sqlite"
    if database.exists():
        return database
    for stale in DATA_DIR.glob(f"mmt-world-{meters}-*"):
        shutil.rmtree(stale)
    home = Path(tempfile.mkdtemp(prefix="mmt-world-"))
    try:
        for step in (["generate", "--meters", str(meters)], ["ingest", "--quiet"]):
            done = run_measured([mmtlite, "--home", str(home), *step])
            if done.returncode != 0:
                raise SystemExit(f"mmtlite {step[0]} failed: {done.stderr[-500:]}")
        connection = connect(home / "mmt_build.sqlite")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        folder.mkdir(parents=True)
        shutil.copy(home / "mmt_build.sqlite", database)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return database


def _exclusions_file(database: Path, folder: Path) -> Path:
    """A NONCOMM ADD of eligible meters, the next sequence, with a code the list knows."""
    connection = connect(database)
    try:
        sequence = connection.execute(
            "SELECT coalesce(max(sequence), 0) + 1 FROM ledger WHERE category = 'NONCOMM'"
        ).fetchone()[0]
        code = connection.execute("SELECT min(code) FROM list_exclcode").fetchone()[0]
        msns = [
            msn
            for (msn,) in connection.execute(
                "SELECT msn FROM meters WHERE status = ? ORDER BY msn LIMIT ?",
                (rules.ELIGIBLE, NEW_EXCLUSIONS),
            )
        ]
    finally:
        connection.close()
    created = "20240201090000"
    path = folder / file_name("NONCOMM", "build", created)
    rows = [(msn, code, "20240131", "ADD") for msn in msns]
    path.write_bytes(write("NONCOMM", "build", sequence, created, rows))
    return path


def _in_process(
    database: Path, work: Callable[..., object], before: Callable[..., object] | None = None
) -> float:
    """Seconds ``work(connection)`` takes inside a transaction that is then rolled back (after
    ``before(connection)``, untimed, in the same transaction)."""
    connection = connect(database)
    try:
        connection.execute("BEGIN IMMEDIATE")
        if before is not None:
            before(connection)
        started = time.perf_counter()
        work(connection)
        seconds = time.perf_counter() - started
        connection.execute("ROLLBACK")
    finally:
        connection.close()
    return seconds


def one_round(mmtlite: str, source: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="mmt-rules-") as folder:
        home = Path(folder) / "home"
        home.mkdir()
        database = Place(home, "build").database
        shutil.copy(source, database)
        figures: dict[str, float] = {}

        def every_rule(connection: sqlite3.Connection) -> None:
            rules.evaluate(connection, "benchmark")

        figures["rules_full"] = _in_process(database, every_rule)
        figures["rules_release"] = _in_process(
            database,
            every_rule,
            before=lambda connection: connection.execute("DELETE FROM list_todo"),
        )
        exclusions = _exclusions_file(database, Path(folder))
        loaded = run_measured(
            [mmtlite, "--home", str(home), "load", "--format", "json", str(exclusions)]
        )
        report = json.loads(loaded.stdout)
        statuses = report["files"][0]["statuses"]
        if loaded.returncode != 0 or not statuses:
            raise SystemExit(f"the NONCOMM load failed: {loaded.stdout[-500:]}")
        figures["rules"] = statuses["seconds"]
        figures["rules_load"] = loaded.seconds

        def select_alone(connection: object) -> None:
            from mmtlite.tranches import select

            select(connection, Place(home, "build"), "B1", TRANCHE, run_id=0)  # type: ignore[arg-type]

        figures["select_in_process"] = _in_process(database, select_alone)
        for leftover in Place(home, "build").folder("dcc", "DCCCAND", "outbound").glob(".*.tmp"):
            leftover.unlink()
        selected = run_measured(
            [
                mmtlite,
                "--home",
                str(home),
                "select",
                "--size",
                str(TRANCHE),
                "--tranche",
                "T1",
                "--format",
                "json",
            ]
        )
        if selected.returncode != 0 or not 0 < json.loads(selected.stdout)["meters"] <= TRANCHE:
            raise SystemExit(f"select failed: {selected.stdout[-300:]} {selected.stderr[-300:]}")
        figures["select"] = selected.seconds
        figures["status_in_process"] = _in_process(database, lambda c: status(c, "build"))
        counted = run_measured([mmtlite, "--home", str(home), "status", "--format", "json"])
        if counted.returncode != 0:
            raise SystemExit(f"status failed: {counted.stderr[-300:]}")
        figures["status"] = counted.seconds
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meters", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    mmtlite = console_script("mmtlite")
    if mmtlite is None:
        raise SystemExit("needs the mmtlite command (pip install -e .)")
    source = world(mmtlite, args.meters)
    rounds = [one_round(mmtlite, source) for _ in range(args.rounds)]
    figures = {name: round(median([r[name] for r in rounds]), 3) for name in rounds[0]}
    if args.json:
        print(json.dumps({"code": code_version(), "meters": args.meters, "seconds": figures}))
        return
    print(
        f"mmtlite migration steps, {args.meters:,} meters, {args.rounds} rounds "
        f"({code_version()}, {os.cpu_count()} cores)"
    )
    labels = {
        "rules_full": "rules.evaluate alone (in process)",
        "rules_release": "rules after every to-do went (in process)",
        "rules": f"rules after a load of {NEW_EXCLUSIONS:,} exclusions",
        "rules_load": "  that whole load (process)",
        "select_in_process": f"selection of {TRANCHE:,} (in process)",
        "select": f"mmtlite select --size {TRANCHE:,} (process)",
        "status_in_process": "status counts (in process)",
        "status": "mmtlite status --format json (process)",
    }
    for name, label in labels.items():
        target = TARGETS.get(name)
        suffix = f"  (target <= {target} s)" if target else ""
        print(f"  {label:46} {figures[name]:7.3f} s{suffix}")


if __name__ == "__main__":
    main()
