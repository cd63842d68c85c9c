"""``nem2cdr convert`` on the big generated file, as a whole process: MB/s, output size, peak RSS.

    python -m benchmarks.measure_convert [--runs 5] [--check big|ten_mb|none]

Each run is the command a user types, ``nem2cdr convert --interval-reads MODE big.csv -o
out.json``, in a fresh process (start-up, imports and writing the file included), for FULL,
MIN_30 and NONE in turn, ``--runs`` times; the median wall time is reported, as MB/s of input
(file bytes per second), with the size of the JSON written and the process's own peak RSS (the
largest of the runs). ``nem2cdr convert --help`` is timed the same way: the start-up floor.
Then ``nem2cdr check`` runs once on the FULL output (``--check``): the time it takes is for
information only (``measure_check`` compares it with its peers).
Targets (FULL): >= 30 MB/s end to end, peak RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.files import MB, bench_file, megabytes
from benchmarks.process import Measured, code_version, median, nem2cdr_executable, run_measured

TARGET_MB_PER_S = 30.0
TARGET_RSS_MB = 150.0  # decimal megabytes, as the issue says: 143.1 MiB
MODES = ("FULL", "MIN_30", "NONE")
MIB = 1 << 20


@dataclass
class ModeRuns:
    mode: str
    seconds: list[float] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)
    output_bytes: int = 0


def convert_argv(executable: str, mode: str, source: Path, out: Path) -> list[str]:
    return [executable, "convert", "--interval-reads", mode, str(source), "-o", str(out)]


def _ran(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        sys.exit(f"{what} failed (exit {measured.returncode}):\n{measured.stderr[-3000:]}")
    return measured


def measure_modes(executable: str, source: Path, folder: Path, runs: int) -> dict[str, ModeRuns]:
    """Every mode once per round, ``runs`` rounds; the last FULL output is kept in ``folder``."""
    results = {mode: ModeRuns(mode) for mode in MODES}
    for round_number in range(runs):
        for mode in MODES:
            out = folder / f"{mode}.json"
            measured = _ran(
                run_measured(convert_argv(executable, mode, source, out)), f"convert {mode}"
            )
            result = results[mode]
            result.seconds.append(measured.seconds)
            result.peak_rss_mib.append(measured.peak_rss_mb)
            size = out.stat().st_size
            if result.output_bytes and size != result.output_bytes:
                sys.exit(
                    f"convert {mode}: {size:,} bytes this time, {result.output_bytes:,} before"
                )
            result.output_bytes = size
            if mode != "FULL" or round_number < runs - 1:
                out.unlink()
    return results


def print_modes(results: dict[str, ModeRuns], size_mb: float, start_up: float) -> None:
    header = (
        f"{'mode':7} {'median s':>8} {'MB/s':>6} {'output':>10} {'out/in':>6} "
        f"{'output MB/s':>11} {'peak RSS':>9}   runs"
    )
    print(header)
    print("-" * len(header))
    for result in results.values():
        wall = median(result.seconds)
        out_mb = result.output_bytes / MB
        print(
            f"{result.mode:7} {wall:8.2f} {size_mb / wall:6.1f} {out_mb:7.1f} MB "
            f"{out_mb / size_mb:5.2f}x {out_mb / wall:11.1f} "
            f"{max(result.peak_rss_mib):5.1f} MiB   " + " ".join(f"{s:.2f}" for s in result.seconds)
        )
    print(f"start-up floor (nem2cdr convert --help): {start_up:.2f} s")
    full = results["FULL"]
    wall = median(full.seconds)
    rate = size_mb / wall
    rss_mb = max(full.peak_rss_mib) * MIB / MB
    print(
        f"target FULL >= {TARGET_MB_PER_S:.0f} MB/s end to end: {rate:.1f} MB/s "
        f"({rate / TARGET_MB_PER_S:.2f}x the target; it needs <= {size_mb / TARGET_MB_PER_S:.2f}"
        f" s, took {wall:.2f} s): {_verdict(rate >= TARGET_MB_PER_S)}"
    )
    print(
        f"target FULL peak RSS <= {TARGET_RSS_MB:.0f} MB: {rss_mb:.1f} MB "
        f"({max(full.peak_rss_mib):.1f} MiB): {_verdict(rss_mb <= TARGET_RSS_MB)}"
    )


def check_output(executable: str, payload: Path, source: Path) -> None:
    """``nem2cdr check`` once, as a whole process: for information, how long it takes."""
    measured = run_measured([executable, "check", "--format", "json", str(payload)])
    reports = json.loads(measured.stdout) if measured.stdout.strip() else []
    problems = sum(len(report.get("problems", [])) for report in reports)
    clean = measured.returncode == 0 and bool(reports) and problems == 0
    size_mb = payload.stat().st_size / MB
    print(
        f"nem2cdr check on the FULL output of {source.name} ({megabytes(source):.1f} MB of "
        f"NEM12, {size_mb:.1f} MB of JSON), whole process, once:\n"
        f"  {measured.seconds:.1f} s ({size_mb / measured.seconds:.2f} MB/s of JSON), "
        f"peak RSS {measured.peak_rss_mb:.0f} MiB, exit {measured.returncode}, "
        f"{problems} problems: {'valid' if clean else 'NOT VALID'}"
    )
    if not clean:
        print(measured.stdout[:4000] + measured.stderr[-2000:])


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="runs per mode (median shown)")
    parser.add_argument(
        "--check",
        choices=["big", "ten_mb", "none"],
        default="big",
        help="which FULL output nem2cdr check verifies (see measure_check for its figures)",
    )
    args = parser.parse_args()
    executable = nem2cdr_executable()
    if executable is None:
        sys.exit("the nem2cdr command is not installed (pip install -e .)")
    big = bench_file("big")
    size = megabytes(big)
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}, {code_version()}")
    print(
        f"nem2cdr convert --interval-reads MODE {big.name} ({size:.1f} MB) -o out.json, "
        f"whole process, median of {args.runs}"
    )
    start_up = median(
        [
            _ran(run_measured([executable, "convert", "--help"]), "start-up").seconds
            for _ in range(3)
        ]
    )
    with tempfile.TemporaryDirectory(prefix="nem2cdr-bench-") as temporary:
        folder = Path(temporary)
        results = measure_modes(executable, big, folder, args.runs)
        print()
        print_modes(results, size, start_up)
        print()
        if args.check == "big":
            check_output(executable, folder / "FULL.json", big)
        elif args.check == "ten_mb":
            source = bench_file("ten_mb")
            out = folder / "ten_mb-FULL.json"
            _ran(run_measured(convert_argv(executable, "FULL", source, out)), "convert ten_mb")
            check_output(executable, out, source)


if __name__ == "__main__":
    main()
