"""FULL conversion of the ~10 MB generated file to a JSON file, in process.

    pytest benchmarks/test_convert_speed.py --benchmark-only

Not part of the normal test run (``testpaths = ["tests"]``). Each round is one
``nem2cdr.convert(file, out, ConvertOptions(interval_reads="FULL"))`` into a temporary folder
(read, convert, order through the spool, write the whole response); ``extra_info`` holds the
input and output sizes and the MB/s of input of the median round. The whole process, start-up
included, is ``measure_convert`` (on ``big``) and ``compare_peers``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import nem2cdr
from benchmarks.files import MB, bench_file, megabytes

FULL = nem2cdr.ConvertOptions(interval_reads="FULL")


@pytest.fixture(scope="module")
def ten_mb() -> Path:
    return bench_file("ten_mb")


def _days(path: Path) -> int:
    with open(path, "rb") as lines:
        return sum(1 for line in lines if line.startswith(b"300,"))


def test_nem2cdr_convert_full_ten_mb(
    benchmark: BenchmarkFixture, ten_mb: Path, tmp_path: Path
) -> None:
    out = tmp_path / "usage.json"

    def convert() -> nem2cdr.ConvertResult:
        return nem2cdr.convert(ten_mb, out, FULL)

    result: nem2cdr.ConvertResult = benchmark.pedantic(  # type: ignore[no-untyped-call]
        convert, rounds=5, iterations=1, warmup_rounds=1
    )
    timings = benchmark.stats
    assert timings is not None  # set once pedantic has run
    median: float = timings.stats.median
    size = megabytes(ten_mb)
    benchmark.extra_info["file_mb"] = round(size, 1)
    benchmark.extra_info["mb_per_s"] = round(size / median, 1)
    benchmark.extra_info["output_mb"] = round(out.stat().st_size / MB, 1)
    benchmark.extra_info["records"] = result.total_records
    # A fast conversion that drops records or complains about a valid file is no win.
    assert result.ok
    assert result.total_records == _days(ten_mb)  # one EnergyUsageRead per 300 row
    found = result.diagnostics
    assert (found.error_count, found.warning_count) == (0, 0)
