"""``nem2cdr experiments`` on the bundled sample, as a whole process: wall time against targets.

    python -m benchmarks.measure_experiments [--runs 5]

Two commands a user types, each in a fresh process (start-up, imports, reading the file,
encoding, round trips, compression and the table printed, all included), taking turns,
median of ``--runs``:

- the thread's experiments on gzip 6: ``nem2cdr experiments SAMPLE --only 00,...,07 --codecs
  gzip:6`` (target: at most 0.5 s);
- the full default run, every experiment on gzip 6, zstd 3 and brotli 5: ``nem2cdr experiments
  SAMPLE`` (target: at most 3 s).

``nem2cdr experiments --help`` is timed the same way (the start-up floor). Then one more full
run with ``--format json`` shows where the time goes: each experiment's encode and decode time
as the run measured them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.process import Measured, code_version, median, nem2cdr_executable, run_measured

SAMPLE = (
    Path(__file__).resolve().parent.parent
    / "samples"
    / ("NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv")
)
THREAD = "00,01,02,03,04,05,06,07"
TARGETS = {"thread experiments, gzip 6": 0.5, "every experiment, default codecs": 3.0}


def commands(executable: str) -> dict[str, list[str]]:
    base = [executable, "experiments", str(SAMPLE)]
    return {
        "thread experiments, gzip 6": [*base, "--only", THREAD, "--codecs", "gzip:6"],
        "every experiment, default codecs": base,
    }


def _ran(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        sys.exit(f"{what} failed (exit {measured.returncode}):\n{measured.stderr[-3000:]}")
    return measured


def measure(argvs: dict[str, list[str]], runs: int) -> dict[str, list[Measured]]:
    """Each command once per round, ``runs`` rounds: noise on a shared machine hits all alike."""
    results: dict[str, list[Measured]] = {name: [] for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            results[name].append(_ran(run_measured(argv), name))
    return results


def print_results(results: dict[str, list[Measured]], start_up: float) -> bool:
    met_all = True
    print(f"{'command':34} {'median s':>8} {'target':>7} {'verdict':>8} {'peak RSS':>9}   runs")
    for name, measured in results.items():
        wall = median([m.seconds for m in measured])
        met = wall <= TARGETS[name]
        met_all &= met
        rss = max(m.peak_rss_mb for m in measured)
        runs = " ".join(f"{m.seconds:.2f}" for m in measured)
        print(
            f"{name:34} {wall:8.2f} {TARGETS[name]:6.1f}s {'met' if met else 'NOT MET':>8} "
            f"{rss:5.1f} MiB   {runs}"
        )
    print(f"start-up floor (nem2cdr experiments --help): {start_up:.2f} s")
    return met_all


def print_breakdown(executable: str) -> None:
    """Encode and decode time per experiment, from one full run's JSON report."""
    measured = _ran(
        run_measured([executable, "experiments", str(SAMPLE), "--format", "json"]), "json run"
    )
    document = json.loads(measured.stdout)
    rows = document["experiments"]
    print(
        f"\nwhere the time goes (one full run, {measured.seconds:.2f} s whole process; "
        f"{document['reads']:,} reads, {document['values']:,} values):"
    )
    print(f"{'id':3} {'name':32} {'encode ms':>9} {'decode ms':>9} {'raw kB':>8} {'gzip-6 kB':>9}")
    for row in rows:
        decode = row["decode_ms"]
        print(
            f"{row['id']:3} {row['name']:32} {row['encode_ms']:9.1f} "
            f"{'' if decode is None else f'{decode:.1f}':>9} {row['raw_bytes'] / 1000:8.1f} "
            f"{row['compressed']['gzip-6'] / 1000:9.1f}"
        )
    encode = sum(row["encode_ms"] for row in rows)
    decode = sum(row["decode_ms"] or 0 for row in rows)
    print(f"{'':3} {'total':32} {encode:9.1f} {decode:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="runs per command (median shown)")
    args = parser.parse_args()
    executable = nem2cdr_executable()
    if executable is None:
        sys.exit("the nem2cdr command is not installed (pip install -e .)")
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}, {code_version()}")
    print(f"nem2cdr experiments {SAMPLE.name}, whole process, median of {args.runs}\n")
    start_up = median(
        [
            _ran(run_measured([executable, "experiments", "--help"]), "start-up").seconds
            for _ in range(3)
        ]
    )
    met = print_results(measure(commands(executable), args.runs), start_up)
    print_breakdown(executable)
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
