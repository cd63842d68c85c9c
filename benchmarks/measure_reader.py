"""The reader's throughput, its peak memory and ``nem2cdr validate`` on the big generated file.

    python -m benchmarks.measure_reader            # big file (~95 MB)
    python -m benchmarks.measure_reader --huge     # also the 2x file: memory must not grow

Throughput is measured in this process, the reader and the plain ``csv.reader`` floor taking
turns, and the median of ``--runs`` rounds is reported. Peak RSS is measured in a fresh process
per file (its own ru_maxrss, from wait4), next to a process that only imports ``nem2cdr``.
``nem2cdr validate`` runs as a whole process (start-up included); it must exit 0 with no
errors and no warnings on a generated file. Targets: >= 35 MB/s, peak RSS < 100 MiB.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.files import bench_file, megabytes
from benchmarks.process import (
    Measured,
    code_version,
    median,
    nem2cdr_executable,
    python_code,
    run_measured,
)
from benchmarks.readers import read_with_csv, read_with_nem2cdr

TARGET_MB_PER_S = 35.0
TARGET_RSS_MIB = 100.0

_IMPORT_ONLY = "import nem2cdr"
_READ_ALL = """
import json, sys, time
import nem2cdr
start = time.perf_counter()
reader = nem2cdr.read(sys.argv[1])
for _ in reader:
    pass
found = reader.diagnostics
print(json.dumps({
    "seconds": time.perf_counter() - start, "values": reader.stats.values,
    "errors": found.error_count, "warnings": found.warning_count,
}))
"""


def throughput(path: Path, runs: int) -> None:
    size = megabytes(path)
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(runs):
        for times, read in ((ours, read_with_nem2cdr), (floor, read_with_csv)):
            start = time.perf_counter()
            read(path)
            times.append(time.perf_counter() - start)
    our_s, csv_s = median(ours), median(floor)
    print(f"throughput, {path.name} ({size:.1f} MB), median of {runs}:")
    print(f"  nem2cdr.read   {our_s:7.2f} s  {size / our_s:6.1f} MB/s   runs {_seconds(ours)}")
    print(f"  csv.reader     {csv_s:7.2f} s  {size / csv_s:6.1f} MB/s   runs {_seconds(floor)}")
    print(
        f"  ratio          nem2cdr takes {our_s / csv_s:.2f}x csv.reader's time "
        f"({csv_s / our_s:.0%} of its MB/s); target {TARGET_MB_PER_S:.0f} MB/s: "
        f"{_verdict(size / our_s >= TARGET_MB_PER_S)}"
    )


def peak_memory(paths: list[tuple[str, Path]]) -> None:
    print("peak RSS, one fresh process each:")
    baseline = run_measured(python_code(_IMPORT_ONLY))
    _check(baseline, "import nem2cdr")
    print(f"  import nem2cdr only          {baseline.peak_rss_mb:6.1f} MiB")
    for name, path in paths:
        measured = run_measured(python_code(_READ_ALL, str(path)))
        _check(measured, f"reading {name}")
        result = json.loads(measured.stdout)
        size = megabytes(path)
        print(
            f"  read {name:7} ({size:6.1f} MB)   {measured.peak_rss_mb:6.1f} MiB   "
            f"({measured.peak_rss_mb - baseline.peak_rss_mb:+.1f} over import; "
            f"{result['values']:,} values, {size / result['seconds']:.1f} MB/s in the child, "
            f"{result['errors']} errors, {result['warnings']} warnings)   "
            f"target < {TARGET_RSS_MIB:.0f} MiB: "
            f"{_verdict(measured.peak_rss_mb < TARGET_RSS_MIB)}"
        )


def validate_command(path: Path, runs: int) -> None:
    executable = nem2cdr_executable()
    if executable is None:
        print("nem2cdr validate: the nem2cdr command is not installed (pip install -e .)")
        return
    argv = [executable, "validate", "--format", "json", str(path)]
    results = [run_measured(argv) for _ in range(runs)]
    last = results[-1]
    report = json.loads(last.stdout)[0] if last.stdout.strip() else {}
    errors = len(report.get("errors", [])) + report.get("errors_not_listed", 0)
    warnings = len(report.get("warnings", [])) + report.get("warnings_not_listed", 0)
    clean = last.returncode == 0 and errors == 0 and warnings == 0
    wall = median([result.seconds for result in results])
    print(f"nem2cdr validate --format json {path.name}, whole process, median of {runs}:")
    print(
        f"  {wall:.2f} s wall ({megabytes(path) / wall:.1f} MB/s), exit {last.returncode}, "
        f"{errors} errors, {warnings} warnings, peak RSS {last.peak_rss_mb:.1f} MiB: "
        f"{'clean' if clean else 'NOT CLEAN'}   runs {_seconds([r.seconds for r in results])}"
    )
    if not clean:
        print(last.stdout[:4000] + last.stderr[-2000:])


def _check(measured: Measured, what: str) -> None:
    if measured.returncode != 0:
        sys.exit(f"{what} failed (exit {measured.returncode}):\n{measured.stderr[-2000:]}")


def _seconds(values: list[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--huge", action="store_true", help="also measure the 2x file's memory")
    parser.add_argument("--runs", type=int, default=5, help="rounds of the throughput timing")
    args = parser.parse_args()
    big = bench_file("big")
    files = [("big", big)] + ([("huge", bench_file("huge"))] if args.huge else [])
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}, {code_version()}")
    throughput(big, args.runs)
    peak_memory(files)
    validate_command(big, 3)


if __name__ == "__main__":
    main()
