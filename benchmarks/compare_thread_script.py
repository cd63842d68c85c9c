"""The 2022 thread's Perl script and ``nem2cdr experiments`` side by side, whole process.

    NEM2CDR_THREAD_SCRIPT=/path/to/cdr-tools/experiments/energy/nem2cdr \\
        python -m benchmarks.compare_thread_script [--runs 5]

On a generated file of the thread's shape (two years of 15-minute data, E1 and B1), taking
turns, median of ``--runs``:

- the script (``nem2cdr.pl -f FILE -s -d DIR``, Perl with Debian's JSON::XS, Text::CSV and
  Data::UUID; a shim over core IO::Compress::Gzip stands in for Gzip::Faster);
- ``nem2cdr experiments FILE --only 00,...,07 --codecs gzip:6`` (target: at least 5x faster);
- the same with ``--thread-compat``;
- the full default run (target: at most 2x the 00-07 gzip run).

The script is another project's code: it is not in this repository. Name a local copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.process import median, nem2cdr_executable, run_measured
from nem2cdr.generator import generate

THREAD = "00,01,02,03,04,05,06,07"
SHIM = """package Gzip::Faster;
use IO::Compress::Gzip qw($GzipError);
use Exporter 'import';
our @EXPORT = ('gzip');
sub gzip { my ($in, $out) = (shift);
    IO::Compress::Gzip::gzip(\\$in => \\$out) or die $GzipError; $out }
1;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    script = os.environ.get("NEM2CDR_THREAD_SCRIPT", "")
    executable = nem2cdr_executable()
    if not (Path(script) / "nem2cdr.pl").is_file() or executable is None:
        sys.exit("set NEM2CDR_THREAD_SCRIPT to a local copy of the script; install nem2cdr")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = work / "two-years.csv"
        generate(source, nmis=1, days=730, interval=15, seed=0)
        copy = work / "script"
        shutil.copytree(script, copy)
        (copy / "Gzip").mkdir(exist_ok=True)
        (copy / "Gzip" / "Faster.pm").write_text(SHIM)
        (work / "out").mkdir()
        ours = [executable, "experiments", str(source), "--quiet"]
        commands = {
            "2022 script (Perl, JSON::XS)": [
                "perl",
                str(copy / "nem2cdr.pl"),
                "-f",
                str(source),
                "-s",
                "-d",
                str(work / "out"),
            ],
            "ours, 00-07, gzip 6": [*ours, "--only", THREAD, "--codecs", "gzip:6"],
            "ours, --thread-compat, 00-07, gzip 6": [
                *ours,
                "--thread-compat",
                "--only",
                THREAD,
                "--codecs",
                "gzip:6",
            ],
            "ours, full default run": ours,
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                measured = run_measured(argv)
                if measured.returncode != 0:
                    sys.exit(f"{name} failed:\n{measured.stderr[-2000:]}")
                times[name].append(measured.seconds)
    medians = {name: median(values) for name, values in times.items()}
    script_time = medians["2022 script (Perl, JSON::XS)"]
    thread = medians["ours, 00-07, gzip 6"]
    for name, seconds in medians.items():
        print(f"{name}: {seconds:.2f} s (median of {args.runs})")
    print(f"script / ours (00-07, gzip 6): {script_time / thread:.1f}x (target at least 5x)")
    full = medians["ours, full default run"]
    print(f"full default / 00-07 gzip 6: {full / thread:.1f}x (target at most 2x)")


if __name__ == "__main__":
    main()
