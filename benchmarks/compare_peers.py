"""nem2cdr against the peer NEM12 readers on the same ~10 MB generated file.

    pip install -e '.[bench]'                  # nemreader, aemo-mdff-reader
    python -m benchmarks.compare_peers [--runs 3] [--file big]

Every reader runs as a whole process (``python -c``, start-up and imports included, as a user
would run it), ``--runs`` times; the table shows the median wall time, MB/s, the ratio of each
time to nem2cdr's read and to nem2cdr's FULL conversion, and the peak RSS. nem2cdr runs twice:
``nem2cdr.read`` (iterate every record, like the peers' parse), and the whole ``nem2cdr
convert --interval-reads FULL FILE -o out.json`` command (the CLI's ``main``, click and rich
included), which also writes the CDR JSON file. A peer that is not installed is left out. Then
one more run of each sums every interval value it gives (``math.fsum``, exact, so the order of
addition does not matter) and counts them: a fast reader that loses data is no win. For the
conversion those are the ``intervalReads`` of the JSON it wrote, as absolute values (it
negates export streams).

Targets: nemreader takes >= 15x the time of nem2cdr's read and of its FULL conversion;
aemo_mdff_reader.parse_to_columns takes >= 4x the time of the FULL conversion.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.files import SPECS, bench_file, megabytes
from benchmarks.process import code_version, median, python_code, run_measured

READ = "nem2cdr.read"
CONVERT = "nem2cdr convert (FULL, to a file)"
# (peer, baseline, the least peer time / baseline time the issue asks for)
TARGETS = [
    ("nemreader.read_nem_file", READ, 15.0),
    ("nemreader.read_nem_file", CONVERT, 15.0),
    ("aemo_mdff_reader.parse_to_columns", CONVERT, 4.0),
]

_SUM_AND_PRINT = """
import json, math
print(json.dumps({"values": len(values), "total": math.fsum(values)}))
"""


@dataclass(frozen=True)
class Contender:
    name: str
    module: str  # what must be importable
    distribution: str  # the package that installs it (for its version)
    read: str  # code reading sys.argv[1] through; what is timed
    collect: str  # code leaving every interval value of sys.argv[1] in ``values``


# The console script's own code (``nem2cdr_cli.nem2cdr_commands:main``), writing into a
# temporary folder that the process removes before it ends; ``_CONVERTED`` is then the written JSON.
_CONVERT = """
import os, sys, tempfile
from nem2cdr_cli.nem2cdr_commands import main
folder = tempfile.TemporaryDirectory()
_CONVERTED = os.path.join(folder.name, "usage.json")
sys.argv = ["nem2cdr", "convert", "--interval-reads", "FULL", sys.argv[1], "-o", _CONVERTED]
try:
    main()
except SystemExit as done:
    if done.code:
        raise
"""

CONTENDERS = [
    Contender(
        READ,
        "nem2cdr",
        "nem2cdr",
        "import sys, nem2cdr\nfor _ in nem2cdr.read(sys.argv[1]):\n    pass",
        "import sys, nem2cdr\n"
        "values = [v for day in nem2cdr.read(sys.argv[1]) for v in day.values]",
    ),
    Contender(
        # Reads, converts, orders (the spool) and writes the whole EnergyUsageListResponse.
        CONVERT,
        "nem2cdr_cli.nem2cdr_commands",  # what the command imports: nem2cdr, click, rich
        "nem2cdr",
        _CONVERT + "folder.cleanup()",
        _CONVERT + "import msgspec\n"
        "with open(_CONVERTED, 'rb') as payload:\n"
        "    reads = msgspec.json.decode(payload.read())['data']['reads']\n"
        "values = [abs(v) for r in reads for v in r['intervalRead']['intervalReads']]",
    ),
    Contender(
        # Builds every Reading (a namedtuple per interval) in nested dicts, behind pandas.
        "nemreader.read_nem_file",
        "nemreader",
        "nemreader",
        "import sys, nemreader\nnemreader.read_nem_file(sys.argv[1])",
        "import sys, nemreader\n"
        "data = nemreader.read_nem_file(sys.argv[1])\n"
        "values = [r.read_value for streams in data.readings.values()\n"
        "          for readings in streams.values() for r in readings\n"
        "          if r.read_value is not None]",
    ),
    Contender(
        # Its fast path: one list per column, one entry per interval.
        "aemo_mdff_reader.parse_to_columns",
        "aemo_mdff_reader",
        "aemo-mdff-reader",
        "import sys, aemo_mdff_reader\naemo_mdff_reader.parse_to_columns(sys.argv[1])",
        "import sys, aemo_mdff_reader\n"
        "values = aemo_mdff_reader.parse_to_columns(sys.argv[1])['Value']",
    ),
    Contender(
        # Its streaming API: one IntervalReading per interval.
        "aemo_mdff_reader.parse",
        "aemo_mdff_reader",
        "aemo-mdff-reader",
        "import sys, aemo_mdff_reader\nfor _ in aemo_mdff_reader.parse(sys.argv[1]):\n    pass",
        "import sys, aemo_mdff_reader\n"
        "values = [r.value for r in aemo_mdff_reader.parse(sys.argv[1])]",
    ),
]


@dataclass(frozen=True)
class Result:
    contender: Contender
    version: str
    import_seconds: float
    seconds: float
    runs: list[float]
    peak_rss_mb: float
    values: int
    total: float


def measure(contender: Contender, path: Path, runs: int) -> Result | None:
    if importlib.util.find_spec(contender.module) is None:
        print(f"  {contender.name}: not installed, skipped (pip install -e '.[bench]')")
        return None
    version = importlib.metadata.version(contender.distribution)
    imports = [run_measured(python_code(f"import {contender.module}")) for _ in range(runs)]
    timed = [run_measured(python_code(contender.read, str(path))) for _ in range(runs)]
    checked = run_measured(python_code(contender.collect + _SUM_AND_PRINT, str(path)))
    for measured in [*imports, *timed, checked]:
        if measured.returncode != 0:
            print(f"  {contender.name} {version}: failed (exit {measured.returncode})")
            print("    " + measured.stderr.strip().replace("\n", "\n    ")[-3000:])
            return None
    check = json.loads(checked.stdout)
    seconds = [measured.seconds for measured in timed]
    return Result(
        contender,
        version,
        median([m.seconds for m in imports]),
        median(seconds),
        seconds,
        max(m.peak_rss_mb for m in timed),
        check["values"],
        check["total"],
    )


def _ratio(result: Result, baseline: Result | None) -> str:
    return f"{result.seconds / baseline.seconds:6.1f}x" if baseline else "-"


def print_table(results: list[Result], size_mb: float) -> None:
    by_name = {r.contender.name: r for r in results}
    ours, converted = by_name.get(READ), by_name.get(CONVERT)
    header = (
        f"{'reader':34} {'version':>8} {'seconds':>8} {'MB/s':>7} {'x read':>7} "
        f"{'x FULL':>7} {'import s':>8} {'peak RSS':>9}   runs"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.contender.name:34} {r.version:>8} {r.seconds:8.2f} {size_mb / r.seconds:7.1f} "
            f"{_ratio(r, ours):>7} {_ratio(r, converted):>7} {r.import_seconds:8.2f} "
            f"{r.peak_rss_mb:5.0f} MiB   " + " ".join(f"{s:.2f}" for s in r.runs)
        )
    print("(x read, x FULL: the time as a multiple of nem2cdr.read's, of the FULL conversion's)")
    print()
    for peer, baseline, least in TARGETS:
        if peer not in by_name or baseline not in by_name:
            continue
        ratio = by_name[peer].seconds / by_name[baseline].seconds
        verdict = "met" if ratio >= least else "NOT MET"
        print(
            f"target: {peer} >= {least:.0f}x {baseline}: {ratio:.1f}x "
            f"(1/{ratio:.1f} of its time): {verdict}"
        )
    print()
    print("correctness: every interval value each reader gives, counted and summed exactly")
    print(f"{'reader':34} {'values':>12} {'total (math.fsum)':>24}   vs nem2cdr")
    for r in results:
        if ours is None or r is ours:
            verdict = ""
        elif r.values == ours.values and r.total == ours.total:
            verdict = "same"
        else:
            verdict = (
                f"DIFFERENT: {r.values - ours.values:+,} values, {r.total - ours.total:+.6f} total"
            )
        print(f"{r.contender.name:34} {r.values:12,} {r.total!r:>24}   {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs per reader (median shown)")
    parser.add_argument("--file", default="ten_mb", help=f"one of {', '.join(SPECS)}")
    args = parser.parse_args()
    if args.file not in SPECS:
        parser.error(f"unknown file {args.file!r}: choose from {', '.join(SPECS)}")
    path = bench_file(args.file)
    size = megabytes(path)
    print(
        f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}, {code_version()}\n"
        f"{path.name} "
        f"({size:.1f} MB), whole process, median of {args.runs}"
    )
    results = [r for c in CONTENDERS if (r := measure(c, path, args.runs)) is not None]
    print()
    print_table(results, size)


if __name__ == "__main__":
    main()
