"""nem2cdr export against the peers' DataFrame + Parquet paths, and nem2cdr.spark's scaling.

    python -m benchmarks.measure_export --peer-python /path/to/python3.12 [--file big]
    python -m benchmarks.measure_export --spark-only

Part 1, Parquet export of the 95 MB 5-minute file (``bench_file("big")``), each a whole
process, side by side in one run: ``nem2cdr export --to parquet``, aemo-mdff-reader 3.0
(``to_dataframe`` then pandas' ``to_parquet``) and nemreader 1.0.1 (``output_as_data_frames``
then polars' ``write_parquet`` of them all). Both peers declare Python >= 3.12; they run under
``--peer-python`` (a Python 3.12 with them installed: ``pip install nemreader==1.0.1
aemo-mdff-reader==3.0 pandas pyarrow``), nem2cdr under this interpreter. Wall time and peak
RSS; the ratios are each peer's time over nem2cdr's.

Part 2, Spark: 50 generated files, ``read_nem12`` written to Parquet and ``to_cdr`` pages
written to files, in local[1] and local[2] (each a fresh process: JVM start included, and
reported apart), records (interval days) per second, the speed-up, and the overhead against
``nem2cdr convert --all-pages`` of the same files one after another in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks.files import bench_file, megabytes
from benchmarks.process import Measured, code_version, nem2cdr_executable, run_measured

AEMO = (
    "import sys, aemo_mdff_reader\n"
    "aemo_mdff_reader.to_dataframe(sys.argv[1]).to_parquet(sys.argv[2])\n"
)
NEMREADER = (
    "import sys, polars, nemreader\n"
    "frames = [frame for _, frame in nemreader.output_as_data_frames(sys.argv[1])]\n"
    "polars.concat(frames, how='diagonal_relaxed').write_parquet(sys.argv[2])\n"
)
SPARK_FILES = 50
# What one Spark run does, timed inside the process from the session's start (the JVM's start
# is the process time less this).
SPARK_RUN = """
import json, os, sys, time
os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession
from nem2cdr.spark import read_nem12, to_cdr, write_pages
cores, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]
spark = (SparkSession.builder.master(f"local[{cores}]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", str(2 * int(cores))).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter()
read_nem12(spark, folder, "daily").write.mode("overwrite").parquet(out + "/daily")
read_at = time.perf_counter()
pages = to_cdr(read_nem12(spark, folder, values="text"), interval_reads="FULL", page_size=100)
write_pages(pages, out + "/pages")
done = time.perf_counter()
print(json.dumps({"read": read_at - started, "convert": done - read_at}))
"""
CONVERT_ALL = """
import sys, pathlib, nem2cdr
options = nem2cdr.ConvertOptions(interval_reads="FULL")
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.csv")):
    nem2cdr.convert(path, options=options, all_pages=pathlib.Path(sys.argv[2]) / path.stem,
                    page_size=100)
"""


def _line(name: str, measured: Measured, baseline: Measured | None) -> str:
    """Wall time and CPU time (the machine may be shared: CPU time is what load changes
    least), each with its ratio to the baseline's, and peak RSS."""
    if measured.returncode:
        return f"  {name:44} failed (exit {measured.returncode}): {measured.stderr[-300:]}"
    wall, cpu = measured.seconds, measured.cpu_seconds
    ratios = (
        f"{wall / baseline.seconds:6.1f}x {cpu / baseline.cpu_seconds:6.1f}x"
        if baseline
        else " " * 15
    )
    return (
        f"  {name:46} wall {wall:7.1f} s  CPU {cpu:7.1f} s  {ratios}  "
        f"peak RSS {measured.peak_rss_mb:6.0f} MiB"
    )


def measure_peers(peer_python: str | None, file: str) -> None:
    path = bench_file(file)
    exe = nem2cdr_executable()
    assert exe is not None, "nem2cdr is not installed in this environment"
    print(f"Parquet export of {path.name} ({megabytes(path):.0f} MB), {code_version()}")
    with tempfile.TemporaryDirectory() as folder:
        ours = run_measured([exe, "export", "--to", "parquet", str(path), "-o", f"{folder}/o.pq"])
        print(_line("nem2cdr export --to parquet", ours, None))
        if peer_python is None:
            print("  (no --peer-python: the peers are left out)")
            return
        for name, code in (
            ("aemo-mdff-reader 3.0 to_dataframe+to_parquet", AEMO),
            ("nemreader 1.0.1 output_as_data_frames+parquet", NEMREADER),
        ):
            measured = run_measured([peer_python, "-c", code, str(path), f"{folder}/p.pq"])
            print(_line(name, measured, ours))


def measure_spark() -> None:
    from nem2cdr.generator import generate

    with tempfile.TemporaryDirectory() as folder:
        inputs = Path(folder) / "in"
        inputs.mkdir()
        for seed in range(SPARK_FILES):
            generate(inputs / f"f{seed:02d}.csv", nmis=2, days=365, interval=30, seed=seed)
        records = sum(nem2cdr_days(path) for path in inputs.iterdir())
        size = sum(path.stat().st_size for path in inputs.iterdir()) / 1e6
        print(f"Spark: {SPARK_FILES} files, {size:.0f} MB, {records:,} interval days")
        convert = run_measured(
            [sys.executable, "-c", CONVERT_ALL, str(inputs), f"{folder}/convert"]
        )
        print(_line("nem2cdr convert --all-pages, file by file", convert, None))
        timings = {}
        for cores in ("1", "2"):
            out = f"{folder}/spark{cores}"
            run = run_measured([sys.executable, "-c", SPARK_RUN, cores, str(inputs), out])
            print(_line(f"Spark local[{cores}] read_nem12 + to_cdr", run, convert))
            if run.returncode:
                continue
            inside = json.loads(run.stdout.strip().splitlines()[-1])
            timings[cores] = inside
            work = inside["read"] + inside["convert"]
            print(
                f"    jobs {work:.1f} s (read_nem12 daily to Parquet {inside['read']:.1f} s, "
                f"to_cdr to files {inside['convert']:.1f} s), start-up "
                f"{run.seconds - work:.1f} s; {records / inside['read']:,.0f} days/s read, "
                f"{records / inside['convert']:,.0f} days/s converted"
            )
        if len(timings) == 2:
            one, two = (timings[c]["read"] + timings[c]["convert"] for c in ("1", "2"))
            print(f"  speed-up local[2] over local[1]: {one / two:.2f}x")
            print(f"  Spark local[2] jobs over convert: {two / convert.seconds:.2f}x the time")


def nem2cdr_days(path: Path) -> int:
    import nem2cdr

    return nem2cdr.validate(path).stats.days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer-python", default=os.environ.get("NEM2CDR_PEER_PYTHON"))
    parser.add_argument("--file", default="big")
    parser.add_argument("--spark-only", action="store_true")
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    if not args.spark_only:
        measure_peers(args.peer_python, args.file)
    if not args.no_spark:
        measure_spark()


if __name__ == "__main__":
    main()
